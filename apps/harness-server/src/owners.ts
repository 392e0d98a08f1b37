/**
 * Which tenant and request each running script belongs to. Policy, approvals, audit records and
 * spawned tasks only see a `scriptId`; this registry ties that id back to the API key that
 * started the script, so an approval is shown to and decided by its own tenant only, audit
 * records carry the tenant, and tasks count against the right tenant's cap.
 */
import { randomUUID } from 'node:crypto';
import type { Harness } from '@script-harness/core';

export interface ScriptOwner {
  readonly tenant: string;
  readonly requestId: string;
}

export interface ScriptOwners {
  register(scriptId: string, owner: ScriptOwner): void;
  release(scriptId: string): void;
  get(scriptId: string): ScriptOwner | undefined;
  /** The harness, with every run registered to `owner` for as long as it runs. */
  harnessFor(harness: Harness, owner: ScriptOwner): Harness;
}

export function createScriptOwners(): ScriptOwners {
  const owners = new Map<string, ScriptOwner>();
  const registry: ScriptOwners = {
    register: (scriptId, owner) => {
      owners.set(scriptId, owner);
    },
    release: (scriptId) => {
      owners.delete(scriptId);
    },
    get: (scriptId) => owners.get(scriptId),
    harnessFor(harness, owner) {
      return {
        ...harness,
        async run(source, options = {}) {
          const scriptId = options.scriptId ?? randomUUID();
          registry.register(scriptId, owner);
          try {
            return await harness.run(source, { ...options, scriptId });
          } finally {
            registry.release(scriptId);
          }
        },
      };
    },
  };
  return registry;
}

/** The audit correlation id of a script: `<tenant>/<request id>`. */
export function correlationIdOf(owner: ScriptOwner | undefined): string | undefined {
  return owner === undefined ? undefined : `${owner.tenant}/${owner.requestId}`;
}
