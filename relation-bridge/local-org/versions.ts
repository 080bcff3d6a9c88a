/** The API versions the local org serves, with their release names. */
const RELEASES: Array<[string, string]> = [
  ['58.0', "Summer '23"],
  ['59.0', "Winter '24"],
  ['60.0', "Spring '24"],
  ['61.0', "Summer '24"],
  ['62.0', "Winter '25"],
  ['63.0', "Spring '25"],
  ['64.0', "Summer '25"],
  ['65.0', "Winter '26"],
  ['66.0', "Spring '26"],
  ['67.0', "Summer '26"],
  ['68.0', "Winter '27"],
];

export const SUPPORTED_VERSIONS = RELEASES.map(([version]) => version);

export function isSupportedVersion(version: string): boolean {
  return SUPPORTED_VERSIONS.includes(version);
}

/** The body of `GET /services/data/`. */
export function versionList(): Array<{ label: string; url: string; version: string }> {
  return RELEASES.map(([version, label]) => ({ label, url: `/services/data/v${version}`, version }));
}
