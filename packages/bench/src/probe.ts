/**
 * Run-time detection of features that have not landed in every build of the product. Rows probe
 * instead of hard-coding "not landed", so they light up when the feature arrives.
 */

const MISSING_MODULE_CODES = new Set([
  'ERR_MODULE_NOT_FOUND',
  'ERR_PACKAGE_PATH_NOT_EXPORTED',
  'ERR_INVALID_PACKAGE_TARGET',
]);

export type Probe<T> = { readonly found: T } | { readonly missing: string };

/**
 * Imports a package that may not exist yet. Only "this package cannot be found or has no entry
 * point" counts as missing; any other failure while loading it is a real error and is thrown.
 */
export async function importOptional(specifier: string): Promise<Probe<Record<string, unknown>>> {
  try {
    // A computed specifier: the package is not a declared dependency until it exists.
    const loaded = (await import(specifier)) as Record<string, unknown>;
    return { found: loaded };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : '';
    if (typeof code === 'string' && MISSING_MODULE_CODES.has(code) && message.includes(specifier)) {
      return {
        missing:
          code === 'ERR_MODULE_NOT_FOUND'
            ? `${specifier} does not resolve: no such workspace package, or not a dependency of the bench yet`
            : `${specifier} has no entry point yet`,
      };
    }
    throw error;
  }
}

/** The first exported function whose name matches `pattern`. */
export function findExport(
  module: Record<string, unknown>,
  pattern: RegExp,
): { readonly name: string; readonly value: (...args: never[]) => unknown } | undefined {
  for (const [name, value] of Object.entries(module)) {
    if (typeof value === 'function' && pattern.test(name)) {
      return { name, value: value as (...args: never[]) => unknown };
    }
  }
  return undefined;
}

/** Imports `specifier` and finds an export matching `pattern`, or says precisely what is missing. */
export async function probeExport(
  specifier: string,
  pattern: RegExp,
  description: string,
): Promise<Probe<{ readonly name: string; readonly value: (...args: never[]) => unknown }>> {
  const imported = await importOptional(specifier);
  if ('missing' in imported) return imported;
  const found = findExport(imported.found, pattern);
  return found === undefined ? { missing: `${specifier} exports no ${description} (${pattern})` } : { found };
}
