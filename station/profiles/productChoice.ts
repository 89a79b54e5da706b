/**
 * Which profile `--product NAME` means. Supervisors type the name from memory or from the UI,
 * where letter case and a stray space are easy to get wrong ("sensor v3 " for "Sensor v3");
 * refusing that would stop the line for nothing, so a name that differs only so picks the one
 * profile it can mean. A profiles file may therefore not hold two names that fold to one
 * (profileCrossChecks.ts refuses it); an exact match still wins, for lists built otherwise.
 */
export type ProductChoice<T> = { profile: T; caseDiffers: boolean } | { problem: string };

/** A product name as `--product` compares it: letter case and surrounding spaces ignored. */
export function foldProductName(name: string): string {
  return name.trim().toLowerCase();
}

export function chooseProductByName<T extends { name: string }>(
  profiles: readonly T[],
  product: string,
): ProductChoice<T> {
  const exact = profiles.find((p) => p.name === product);
  if (exact) return { profile: exact, caseDiffers: false };
  const folded = foldProductName(product);
  const sameButCase = profiles.filter((p) => foldProductName(p.name) === folded);
  if (sameButCase.length === 1) return { profile: sameButCase[0]!, caseDiffers: true };
  const names = (list: readonly T[]) => list.map((p) => `"${p.name}"`).join(', ');
  if (sameButCase.length > 1) {
    return {
      problem: `No product profile is named exactly "${product}", and ${names(sameButCase)} differ from it only in letter case: give one of them exactly.`,
    };
  }
  return {
    problem: `No product profile is named "${product}". The file has: ${names(profiles)}.`,
  };
}
