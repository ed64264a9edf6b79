/**
 * How the SDK fills in a web or files server that is not configured, from the API server address
 * (self-hosted defaults: API 8008, web 8080, files 8081; hosted: api./app./files. subdomains).
 */

export const HOSTED_API = 'https://api.clear.ml';
const HOSTED_WEB = 'https://app.clear.ml';
const HOSTED_FILES = 'https://files.clear.ml';

/** Removes every trailing slash, as the SDK does for all three hosts. */
export function stripTrailingSlashes(url: string): string {
  return url.replace(/\/+$/, '');
}

function splitUrl(url: string): { scheme: string; authority: string; rest: string } | undefined {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/?#]*)(.*)$/.exec(url);
  return m ? { scheme: m[1], authority: m[2], rest: m[3] } : undefined;
}

/** The web app address for an API address, or undefined when it cannot be guessed. */
export function deriveWebServer(apiServer: string): string | undefined {
  if (apiServer === HOSTED_API) return HOSTED_WEB;
  if (apiServer.includes('://demoapi.')) return apiServer.replace('://demoapi.', '://demoapp.');
  if (apiServer.includes('://api.')) return apiServer.replace('://api.', '://app.');
  const parts = splitUrl(apiServer);
  if (parts && /:8008$/.test(parts.authority)) return apiServer.replace(':8008', ':8080');
  return undefined;
}

/** The files server address, guessed from the web app address (itself maybe derived). */
export function deriveFilesServer(apiServer: string, webServer: string): string {
  if (apiServer === HOSTED_API) return HOSTED_FILES;
  const parts = splitUrl(webServer);
  if (!parts) return `${webServer}:8081`;
  let { authority } = parts;
  if (/:\d+$/.test(authority)) authority = authority.replace(/:\d+$/, ':8081');
  else if (authority.startsWith('demoapp.')) authority = authority.replace('demoapp.', 'demofiles.');
  else if (authority.startsWith('app.')) authority = authority.replace('app.', 'files.');
  else authority = `${authority}:8081`;
  return parts.scheme + authority + parts.rest;
}
