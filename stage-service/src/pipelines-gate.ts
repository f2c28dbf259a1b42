/**
 * The few Gate calls `pipelines apply` makes, each as Gate's source defines it
 * (spinnaker-facts.json `gateEndpoints`, spinnaker/gate c0c8d1d7):
 *
 * - `GET /applications/{app}`: 404 when Front50 has no such application (ApplicationController.getApplication);
 * - `POST /tasks` with a `createApplication` job, as Deck's ApplicationWriter.createApplication
 *   sends it; Orca answers `{ref: "/tasks/{id}"}` and runs UpsertApplicationTask, which Front50
 *   refuses without an email (HasEmailValidator); `GET /tasks/{id}` until SUCCEEDED or TERMINAL,
 *   as Gate's own TaskService.createAndWaitForCompletion polls;
 * - `GET /applications/{app}/pipelineConfigs`, `POST /pipelines` (savePipeline);
 * - `DELETE /pipelines/{app}/{name}`: Gate finds the pipeline by name (trimmed, equalsIgnoreCase)
 *   and runs Orca's deletePipeline task (PipelineController.deletePipeline). Not `DELETE
 *   /pipelines/{id}`: that one deletes an execution.
 */

export class GateError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface GateClientOptions {
  baseUrl: string;
  headers: Record<string, string>;
  /** Between task polls; Gate's own wait uses 1 s (TaskService.createAndWaitForCompletion). */
  pollIntervalMs?: number;
  /** Polls before giving up on a task. */
  maxPolls?: number;
}

export type StoredPipeline = Record<string, unknown> & { id?: unknown; name?: unknown };

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class GateClient {
  private readonly base: string;
  constructor(private readonly options: GateClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
  }

  private async call(method: string, path: string, what: string, body?: unknown): Promise<Response> {
    const headers = { ...this.options.headers, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
    const response = await fetch(`${this.base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (response.status === 401 || response.status === 403) {
      throw new GateError(`Gate answered ${response.status} ${what}: set GATE_TOKEN (bearer token) or GATE_SESSION (session cookie) for a user who may write the application`, response.status);
    }
    return response;
  }

  private async fail(response: Response, what: string): Promise<never> {
    throw new GateError(`Gate answered ${response.status} ${what}: ${(await response.text()).slice(0, 300)}`, response.status);
  }

  /** Whether Front50 knows the application. */
  async applicationExists(application: string): Promise<boolean> {
    const what = `reading application ${application}`;
    const response = await this.call('GET', `/applications/${encodeURIComponent(application)}`, what);
    if (response.status === 404) return false;
    if (!response.ok) return this.fail(response, what);
    return true;
  }

  /** Creates the application through Orca (the job Deck's "Create Application" sends) and waits for it. */
  async createApplication(application: string, email: string): Promise<void> {
    const what = `creating application ${application}`;
    const task = { application, description: `Create Application: ${application}`, job: [{ type: 'createApplication', application: { name: application, email, cloudProviders: 'kubernetes' } }] };
    const response = await this.call('POST', '/tasks', what, task);
    if (!response.ok) return this.fail(response, what);
    const { ref } = (await response.json()) as { ref?: string };
    const id = typeof ref === 'string' ? ref.split('/').pop() : undefined;
    if (!id) throw new GateError(`Gate answered without a task ref ${what}`);
    const maxPolls = this.options.maxPolls ?? 120;
    for (let poll = 0; poll < maxPolls; poll++) {
      const status = await this.call('GET', `/tasks/${encodeURIComponent(id)}`, what);
      if (!status.ok) return this.fail(status, what);
      const result = (await status.json()) as { status?: string };
      if (result.status === 'SUCCEEDED') return;
      if (result.status === 'TERMINAL' || result.status === 'CANCELED' || result.status === 'STOPPED') {
        throw new GateError(`Orca's createApplication task ${id} ended ${result.status} ${what} (Front50 refuses a name its validation regex rejects, or an empty email)`);
      }
      await pause(this.options.pollIntervalMs ?? 1000);
    }
    throw new GateError(`Orca's createApplication task ${id} did not finish after ${maxPolls} polls`);
  }

  async listPipelines(application: string): Promise<StoredPipeline[]> {
    const what = `listing ${application}'s pipelines`;
    const response = await this.call('GET', `/applications/${encodeURIComponent(application)}/pipelineConfigs`, what);
    if (!response.ok) return this.fail(response, what);
    return (await response.json()) as StoredPipeline[];
  }

  async savePipeline(pipeline: { name: string }): Promise<void> {
    const what = `saving ${pipeline.name}`;
    const response = await this.call('POST', '/pipelines', what, pipeline);
    if (!response.ok) return this.fail(response, what);
  }

  async deletePipeline(application: string, name: string): Promise<void> {
    const what = `deleting ${name}`;
    const response = await this.call('DELETE', `/pipelines/${encodeURIComponent(application)}/${encodeURIComponent(name)}`, what);
    if (!response.ok) return this.fail(response, what);
  }
}
