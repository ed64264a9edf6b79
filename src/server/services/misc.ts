import { ApiFault } from '../api/fault.js';
import type { Service } from '../api/service.js';
import type { EmbeddedState } from '../state.js';
import { MAX_API_VERSION, serverVersionFor } from '../versions.js';

/** auth.login is answered by the HTTP layer (it needs the raw Authorization header). */
export function createAuthService(state: EmbeddedState): Service {
  return {
    login: () => {
      throw new ApiFault(500, 0, 'auth.login is handled by the HTTP layer');
    },
    validate_token: (req) => {
      const token = typeof req.body.token === 'string' ? req.body.token : '';
      try {
        state.auth.verifyToken(token);
        return { valid: true, user: state.auth.identity.user, company: state.auth.identity.company };
      } catch (err) {
        return { valid: false, msg: (err as Error).message };
      }
    },
  };
}

export function createServerService(state: EmbeddedState, apiVersion: string = MAX_API_VERSION): Service {
  return {
    info: () => ({ version: serverVersionFor(apiVersion), build: 'embedded', commit: '', uid: 'embedded', api_version: apiVersion }),
    get_stats: () => ({
      tasks: state.stores.tasks.size,
      models: state.stores.models.size,
      projects: state.stores.projects.size,
      queues: state.stores.queues.size,
    }),
    config: () => ({}),
    // the embedded server sends no usage statistics anywhere (the web app then never asks to)
    report_stats_option: () => ({ supported: false }),
  };
}

export function createDebugService(): Service {
  return { ping: () => ({ msg: 'ClearML server' }) };
}
