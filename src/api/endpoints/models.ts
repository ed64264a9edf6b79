/** models.* calls: finding a task's models and deleting them. */
import type { ApiCaller } from '../client.js';
import type { Model } from '../../types/clearml.js';
import type { ListQuery, ManyResult } from './common.js';

export interface ModelsGetAllRequest extends ListQuery {
  task?: string[];
  project?: string[];
  uri?: string[];
  ready?: boolean;
  framework?: string[];
}

export interface ModelsCreateRequest {
  name: string;
  uri: string;
  task?: string;
  project?: string;
  ready?: boolean;
  public?: boolean;
  framework?: string;
  tags?: string[];
  system_tags?: string[];
  [field: string]: unknown;
}

export class ModelsApi {
  constructor(private readonly api: ApiCaller) {}

  getAll(req: ModelsGetAllRequest): Promise<{ models: Model[]; scroll_id?: string }> {
    return this.api.call('models.get_all', req);
  }
  getById(req: { model: string }): Promise<{ model: Model }> {
    return this.api.call('models.get_by_id', req);
  }
  create(req: ModelsCreateRequest): Promise<{ id: string; created?: boolean }> {
    return this.api.call('models.create', req);
  }
  /** without force: 400/205 when another task uses it as input */
  delete(req: { model: string; force?: boolean; delete_external_artifacts?: boolean }): Promise<{ deleted: boolean; url?: string | null }> {
    return this.api.call('models.delete', req);
  }
  deleteMany(req: { ids: string[]; force?: boolean; delete_external_artifacts?: boolean }): Promise<ManyResult<{ deleted: boolean; url?: string | null }>> {
    return this.api.call('models.delete_many', req);
  }
}
