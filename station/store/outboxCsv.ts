/**
 * RFC 4180 CSV: CRLF line ends, and a field is quoted (with inner quotes doubled) when it holds a
 * comma, a quote, CR or LF. The CSV is the export people open in a spreadsheet (a shift report, a
 * hand-over), and its text comes partly from devices (serial, model) and from DPS (errors): a text
 * a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`,
 * which the spreadsheet shows as plain text. `--format json` keeps every value exactly.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const lines = [header, ...rows].map((row) => row.map(csvField).join(','));
  return lines.map((line) => `${line}\r\n`).join('');
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? inertText(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Numbers are written by String() and stay numbers; only text can carry a formula. */
function inertText(text: string): string {
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}
