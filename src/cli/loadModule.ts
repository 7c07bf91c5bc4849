import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Imports a user module (JavaScript or TypeScript) given on the command line. */
export async function loadUserModule(file: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(file)).href;
  if (/\.(c|m)?tsx?$/.test(file)) {
    const { register } = await import('tsx/esm/api');
    const unregister = register();
    try {
      return (await import(url)) as Record<string, unknown>;
    } finally {
      await unregister();
    }
  }
  return (await import(url)) as Record<string, unknown>;
}
