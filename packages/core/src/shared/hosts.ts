/**
 * True when `host` is one of `allowed` or a subdomain of one (case-insensitive): the rule for
 * every host list (ATTACHMENT_HOSTS, DISCORD_ATTACHMENT_HOSTS, SLACK_FILE_HOSTS).
 */
export function isAllowedHost(host: string, allowed: readonly string[]): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((entry) => name === entry || name.endsWith(`.${entry}`));
}
