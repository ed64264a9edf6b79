import { ApiFault } from '../api/fault.js';
import type { Service } from '../api/service.js';
import type { EmbeddedState } from '../state.js';
import { DocCollection } from '../store/collection.js';

/**
 * users.*: the embedded server has one user (the key pair's owner). Preferences are the web app's
 * per-user settings (table columns, theme, hidden tips); kept in the database as the real server
 * keeps them on the user document (apiserver/services/users.py).
 */
interface PreferencesDoc {
  id: string;
  preferences: Record<string, unknown>;
}

/** The real server's default for users.get_current_user settings.max_download_items. */
const MAX_DOWNLOAD_ITEMS = 1000;

export function createUsersService(state: EmbeddedState): Service {
  const id = state.auth.identity;
  const prefs = new DocCollection<PreferencesDoc>(state.db, 'user_preferences');
  const user = {
    id: id.user,
    name: id.name,
    company: id.company,
    role: id.role,
    given_name: id.name,
    family_name: '',
    created: '2024-01-01T00:00:00+00:00',
  };
  const checkUser = (value: unknown) => {
    if (value !== id.user) throw new ApiFault(400, 401, 'Invalid user id', { id: value });
  };
  const current = () => prefs.get(id.user)?.preferences ?? {};
  return {
    get_current_user: () => ({
      user: { ...user, company: { id: id.company, name: 'embedded' } },
      getting_started: null,
      settings: { max_download_items: MAX_DOWNLOAD_ITEMS },
    }),
    get_by_id: (req) => {
      checkUser(req.body.user);
      return { user };
    },
    get_all: (req) => ({ users: matches(req.body.id, id.user) ? [user] : [] }),
    get_all_ex: (req) => ({ users: matches(req.body.id, id.user) ? [user] : [] }),
    get_preferences: () => ({ preferences: current() }),
    set_preferences: (req) => {
      const changes = req.body.preferences;
      if (!changes || typeof changes !== 'object' || Array.isArray(changes)) {
        throw new ApiFault(400, 11, 'Missing required fields: preferences', { fields: ['preferences'] });
      }
      checkKeys(changes, true);
      const before = JSON.stringify(current());
      const next = structuredClone(current());
      // top-level keys may be dotted paths into the stored tree
      for (const [key, value] of Object.entries(changes)) setPath(next, key.split('.'), value);
      const updated = JSON.stringify(next) === before ? 0 : 1;
      if (updated) prefs.put({ id: id.user, preferences: next });
      return { updated, fields: updated && req.body.return_updated ? { preferences: next } : {} };
    },
  };
}

function matches(filter: unknown, userId: string): boolean {
  if (filter === undefined) return true;
  const ids = Array.isArray(filter) ? filter : [filter];
  return ids.includes(userId);
}

/** Keys may not start with "$"; only top-level keys may hold "." (the real server's rule). */
function checkKeys(obj: Record<string, unknown>, top: boolean): void {
  for (const [key, value] of Object.entries(obj)) {
    if (key.startsWith('$') || (!top && key.includes('.'))) {
      throw new ApiFault(400, 12, `Key ${key} is invalid. Keys cannot start with '$' or contain '.'.`);
    }
    if (value && typeof value === 'object' && !Array.isArray(value)) checkKeys(value as Record<string, unknown>, false);
  }
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}
