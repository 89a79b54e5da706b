/**
 * RFC 4180 CSV: CRLF line ends, and a field is quoted (with inner quotes doubled) when it holds a
 * comma, a quote, CR or LF. Fields are written as they are, with no spreadsheet-formula escaping:
 * the export is meant to be read back by machines, and a leading `'` would change the data.
 */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const lines = [header, ...rows].map((row) => row.map(csvField).join(','));
  return lines.map((line) => `${line}\r\n`).join('');
}

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
