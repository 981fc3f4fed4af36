// Credentials written into a flow definition (an auth token, an API key's
// secret, a user name and password in a URL): `flow pull` refuses to write
// them into git and `lint` reports them. Found by widget and property, never
// quoting the value.

export interface CredentialHit {
  readonly widget: string;
  readonly property: string;
  readonly kind: string;
}

// An auth token or API secret: 32 hex or alphanumeric characters that are not the tail of a SID.
const SECRET = /(?<![A-Za-z0-9])[0-9a-f]{32}(?![A-Za-z0-9])|(?<![A-Z])SK[0-9a-fA-F]{32}[^A-Za-z0-9]{1,3}[A-Za-z0-9]{32}(?![A-Za-z0-9])/;
const URL_CREDENTIALS = /[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@/i;

/** Strings in the definition that look like credentials, by widget and property: never their values. */
export function findCredentials(definition: Record<string, unknown>): CredentialHit[] {
  const hits: CredentialHit[] = [];
  const states = Array.isArray(definition.states) ? (definition.states as Array<Record<string, unknown>>) : [];
  for (const state of states) {
    const widget = String(state.name ?? '?');
    const walk = (value: unknown, path: string) => {
      if (typeof value === 'string') {
        if (URL_CREDENTIALS.test(value)) hits.push({ widget, property: path, kind: 'a user name and password in a URL' });
        else if (SECRET.test(value)) hits.push({ widget, property: path, kind: 'what looks like an auth token or API secret' });
      } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${path}[${i}]`));
      else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    };
    walk(state.properties, '');
  }
  return hits;
}
