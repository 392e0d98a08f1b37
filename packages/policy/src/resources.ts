/**
 * Network and file policy as plain data, for the tools that reach hosts and files: which hosts a
 * request may go to (and which headers the host adds there), which directories are reachable and
 * whether they may be written. Rules decide whether a call happens; these say what it may touch.
 */
import { HarnessError } from '@script-harness/core';
import { z } from 'zod';
import { canonicalHostname, HostPatternSchema, hostMatches, isPrivateAddress, parseHostPattern } from './hosts.ts';
import { formatIssues } from './issues.ts';

/** An HTTP header name (RFC 9110 token). */
const HeaderNameSchema = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not an HTTP header name');
/** A header value: a line break or NUL would let a value smuggle in another header. */
const HeaderValueSchema = z.string().regex(/^[^\r\n\0]*$/, 'a header value must not contain line breaks or NUL');

export const NetworkPolicySchema = z.strictObject({
  allowHosts: z
    .array(HostPatternSchema)
    .describe('Hosts requests may go to: "api.example.com", "*.example.com" (subdomains only), or an exact IP.'),
  denyPrivateAddresses: z
    .boolean()
    .default(true)
    .describe('Refuse loopback, private, link-local and other non-public addresses, even when listed.'),
  headerTemplates: z
    .record(HostPatternSchema, z.record(HeaderNameSchema, HeaderValueSchema))
    .optional()
    .describe('Headers the host adds to requests to matching hosts, e.g. credentials the script never sees.'),
});

export const FilePolicySchema = z.strictObject({
  roots: z.array(z.string().min(1)).min(1).describe('Directories the file tools may reach.'),
  readOnly: z.boolean().default(false).describe('Refuse every write under the roots.'),
});

/** A network policy after parsing (defaults filled in). */
export type NetworkPolicy = z.output<typeof NetworkPolicySchema>;
export type NetworkPolicyInput = z.input<typeof NetworkPolicySchema>;
export type FilePolicy = z.output<typeof FilePolicySchema>;
export type FilePolicyInput = z.input<typeof FilePolicySchema>;

/** Validates a network policy; throws `HarnessError` (`INVALID_REQUEST`) listing every problem. */
export function parseNetworkPolicy(value: unknown): NetworkPolicy {
  const parsed = NetworkPolicySchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalid('network policy', formatIssues(parsed.error.issues, 'networkPolicy'));
}

/** Validates a file policy; throws `HarnessError` (`INVALID_REQUEST`) listing every problem. */
export function parseFilePolicy(value: unknown): FilePolicy {
  const parsed = FilePolicySchema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalid('file policy', formatIssues(parsed.error.issues, 'filePolicy'));
}

/**
 * Whether a request may go to `hostname`. A name matches a listed name exactly or a `*.suffix`
 * pattern when it is a subdomain of the suffix; case and a trailing dot do not matter. An IP
 * literal matches only the same literal, and with `denyPrivateAddresses` (the default) a
 * non-public address is refused even then. What a name resolves to is checked by whoever connects
 * (`isPrivateAddress`), not here. Patterns that do not parse allow nothing.
 */
export function isHostAllowed(policy: NetworkPolicyInput, hostname: string): boolean {
  const canonical = canonicalHostname(hostname);
  if (canonical === undefined) return false;
  if ((policy.denyPrivateAddresses ?? true) && isPrivateAddress(canonical)) return false;
  return policy.allowHosts.some((pattern) => {
    const parsed = parseHostPattern(pattern);
    return parsed !== undefined && hostMatches(parsed, canonical);
  });
}

function invalid(what: string, problems: string[]): HarnessError {
  return new HarnessError('INVALID_REQUEST', `invalid ${what}: ${problems.join('; ')}`, { details: { problems } });
}
