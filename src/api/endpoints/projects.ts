/** projects.* calls: finding or creating the cleanup task's project. */
import type { ApiCaller } from '../client.js';
import type { Project } from '../../types/clearml.js';
import type { ListQuery } from './common.js';

export interface ProjectsCreateRequest {
  name: string;
  description?: string;
  tags?: string[];
  system_tags?: string[];
  default_output_destination?: string;
}

export class ProjectsApi {
  constructor(private readonly api: ApiCaller) {}

  /** `name` is an unanchored regex: anchor and escape it yourself */
  getAll(req: ListQuery & { shallow_search?: boolean; include_stats?: boolean }): Promise<{ projects: Project[]; scroll_id?: string }> {
    return this.api.call('projects.get_all', req);
  }
  /** 400/801 when the name exists */
  create(req: ProjectsCreateRequest): Promise<{ id: string }> {
    return this.api.call('projects.create', req);
  }
}
