// Serverless v1 (Functions and Assets) for the Twilio stand-in: Services,
// Environments, Functions, Assets and their Versions, Builds, Deployments and
// Variables, every call @twilio-labs/serverless-api makes, with bodies as
// twilio_serverless_v1.json has them. Versions are created only by the upload
// host (serverless-upload), which is in no OpenAPI document: its multipart
// shape is checked here (Path, Visibility, a Content file part, nothing else).

import {
  conflict,
  type Entry,
  invalid,
  iso,
  newSid,
  notFound,
  pageV1,
  required,
  optionalBoolean,
  type ApiRequest,
  type Route,
  TwilioError,
} from './http.js';

export type Visibility = 'public' | 'protected' | 'private';
const VISIBILITIES: readonly string[] = ['public', 'protected', 'private'];
export type BuildStatus = 'building' | 'completed' | 'failed';
const RUNTIMES: readonly string[] = ['node8', 'node10', 'node12', 'node14', 'node16', 'node18', 'node20', 'node22'];
const DEFAULT_RUNTIME = 'node22';
/** Twilio's limit for one Function or Asset version (Assets may be up to 10 MB). */
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

type Kind = 'Functions' | 'Assets';

export interface UploadedVersion {
  readonly sid: string;
  readonly path: string;
  readonly visibility: Visibility;
  /** Exactly the bytes of the Content part. */
  readonly content: Buffer;
  /** The Content part's own type and file name, as the client sent them. */
  readonly contentType: string;
  readonly filename: string;
  readonly dateCreated: string;
}

interface Version extends UploadedVersion {
  readonly seq: number;
}

interface Resource {
  readonly sid: string;
  readonly seq: number;
  friendlyName: string;
  readonly created: string;
  updated: string;
  readonly versions: Version[];
}

interface Build {
  readonly sid: string;
  readonly seq: number;
  status: BuildStatus;
  /** Fetches of the build or its status that still see `building`. */
  fetchesLeft: number;
  readonly functionVersions: readonly string[];
  readonly assetVersions: readonly string[];
  readonly dependencies: ReadonlyArray<{ name: string; version: string }>;
  readonly runtime: string;
  readonly created: string;
  updated: string;
}

interface Variable {
  readonly sid: string;
  readonly seq: number;
  key: string;
  value: string;
  readonly created: string;
  updated: string;
}

interface Deployment {
  readonly sid: string;
  readonly seq: number;
  readonly buildSid: string;
  readonly created: string;
}

interface Environment {
  readonly sid: string;
  readonly seq: number;
  readonly uniqueName: string;
  readonly domainSuffix: string | null;
  readonly domainName: string;
  buildSid: string | null;
  readonly created: string;
  updated: string;
  readonly variables: Map<string, Variable>;
  readonly deployments: Deployment[];
}

interface Service {
  readonly sid: string;
  readonly seq: number;
  readonly uniqueName: string;
  friendlyName: string;
  includeCredentials: boolean;
  uiEditable: boolean;
  readonly domainBase: string;
  readonly created: string;
  updated: string;
  readonly environments: Map<string, Environment>;
  readonly resources: Record<Kind, Map<string, Resource>>;
  readonly builds: Map<string, Build>;
}

/** What a test can read of a deployment (copies; changing them changes nothing). */
export interface ServerlessServiceSnapshot {
  readonly sid: string;
  readonly uniqueName: string;
  readonly friendlyName: string;
  readonly includeCredentials: boolean;
  readonly uiEditable: boolean;
  readonly environments: ReadonlyArray<{
    readonly sid: string;
    readonly uniqueName: string;
    readonly domainSuffix: string | null;
    readonly domainName: string;
    /** The build the latest deployment activated, or null. */
    readonly buildSid: string | null;
    readonly variables: Readonly<Record<string, string>>;
    readonly deployments: ReadonlyArray<{ readonly sid: string; readonly buildSid: string }>;
  }>;
  readonly functions: ReadonlyArray<{ readonly sid: string; readonly friendlyName: string; readonly versions: readonly UploadedVersion[] }>;
  readonly assets: ReadonlyArray<{ readonly sid: string; readonly friendlyName: string; readonly versions: readonly UploadedVersion[] }>;
  readonly builds: ReadonlyArray<{
    readonly sid: string;
    readonly status: BuildStatus;
    readonly functionVersions: readonly string[];
    readonly assetVersions: readonly string[];
    readonly dependencies: ReadonlyArray<{ name: string; version: string }>;
    readonly runtime: string;
  }>;
}

export interface ServerlessOptions {
  readonly accountSid: string;
  readonly clock: () => number;
  readonly seq: () => number;
  /** Fetches of a new build (or its status) that see `building` before it completes; 1 when unset. */
  readonly buildingFetches?: number;
}

export interface Serverless {
  readonly routes: readonly Route[];
  /** The upload host's routes (serverless-upload): Function and Asset Versions. */
  readonly uploadRoutes: readonly Route[];
  snapshot(): ServerlessServiceSnapshot[];
  /** How the builds created from now on end ('failed' to test a failed deploy). */
  setBuildOutcome(outcome: 'completed' | 'failed', buildingFetches?: number): void;
}

const KINDS = {
  Functions: { noun: 'Function', sidField: 'function_sid', versionsLink: 'function_versions', versionsKey: 'function_versions', resourcesKey: 'functions' },
  Assets: { noun: 'Asset', sidField: 'asset_sid', versionsLink: 'asset_versions', versionsKey: 'asset_versions', resourcesKey: 'assets' },
} as const;

/** Twilio's unique names double as domain labels: letters, digits and hyphens. */
const UNIQUE_NAME = /^[A-Za-z0-9-]{1,50}$/;
const DOMAIN_SUFFIX = /^[a-z0-9-]{1,16}$/;

/** Four digits from a SID, as Twilio appends to a service's domain (foobar-1234). */
const digits = (sid: string) => String(parseInt(sid.slice(-4), 16) % 9000 + 1000);

export function createServerless(options: ServerlessOptions): Serverless {
  const { accountSid, clock, seq } = options;
  const services = new Map<string, Service>();
  let outcome: 'completed' | 'failed' = 'completed';
  let buildingFetches = options.buildingFetches ?? 1;

  const findService = (r: ApiRequest, sidOrName: string): Service => {
    const service = services.get(sidOrName) ?? [...services.values()].find((s) => s.uniqueName === sidOrName);
    if (!service) throw notFound(r.path);
    return service;
  };
  const findIn = <T extends { sid: string }>(map: Map<string, T>, r: ApiRequest, sid: string): T => {
    const found = map.get(sid);
    if (!found) throw notFound(r.path);
    return found;
  };
  const findEnvironment = (r: ApiRequest, service: Service, sidOrName: string): Environment => {
    const env = service.environments.get(sidOrName) ?? [...service.environments.values()].find((e) => e.uniqueName === sidOrName);
    if (!env) throw notFound(r.path);
    return env;
  };

  // Bodies, exactly the properties of the spec's schemas.
  const serviceUrl = (r: ApiRequest, s: Service) => `${r.base}/v1/Services/${s.sid}`;
  const serviceBody = (r: ApiRequest, s: Service) => {
    const url = serviceUrl(r, s);
    return {
      sid: s.sid,
      account_sid: accountSid,
      friendly_name: s.friendlyName,
      unique_name: s.uniqueName,
      include_credentials: s.includeCredentials,
      ui_editable: s.uiEditable,
      domain_base: s.domainBase,
      date_created: s.created,
      date_updated: s.updated,
      url,
      links: { environments: `${url}/Environments`, functions: `${url}/Functions`, assets: `${url}/Assets`, builds: `${url}/Builds` },
    };
  };
  const environmentUrl = (r: ApiRequest, s: Service, e: Environment) => `${serviceUrl(r, s)}/Environments/${e.sid}`;
  const environmentBody = (r: ApiRequest, s: Service, e: Environment) => {
    const url = environmentUrl(r, s, e);
    return {
      sid: e.sid,
      account_sid: accountSid,
      service_sid: s.sid,
      build_sid: e.buildSid,
      unique_name: e.uniqueName,
      domain_suffix: e.domainSuffix,
      domain_name: e.domainName,
      date_created: e.created,
      date_updated: e.updated,
      url,
      links: { variables: `${url}/Variables`, deployments: `${url}/Deployments`, logs: `${url}/Logs` },
    };
  };
  const resourceUrl = (r: ApiRequest, s: Service, kind: Kind, x: Resource) => `${serviceUrl(r, s)}/${kind}/${x.sid}`;
  const resourceBody = (r: ApiRequest, s: Service, kind: Kind, x: Resource) => {
    const url = resourceUrl(r, s, kind, x);
    return {
      sid: x.sid,
      account_sid: accountSid,
      service_sid: s.sid,
      friendly_name: x.friendlyName,
      date_created: x.created,
      date_updated: x.updated,
      url,
      links: { [KINDS[kind].versionsLink]: `${url}/Versions` },
    };
  };
  const versionBody = (r: ApiRequest, s: Service, kind: Kind, x: Resource, v: Version) => {
    const url = `${resourceUrl(r, s, kind, x)}/Versions/${v.sid}`;
    return {
      sid: v.sid,
      account_sid: accountSid,
      service_sid: s.sid,
      [KINDS[kind].sidField]: x.sid,
      path: v.path,
      visibility: v.visibility,
      date_created: v.dateCreated,
      url,
      ...(kind === 'Functions' ? { links: { function_version_content: `${url}/Content` } } : {}),
    };
  };
  /** A version as a build lists it (the spec's example: visibility in capitals, no url). */
  const buildVersionBody = (s: Service, kind: Kind, x: Resource, v: Version) => ({
    sid: v.sid,
    account_sid: accountSid,
    service_sid: s.sid,
    [KINDS[kind].sidField]: x.sid,
    date_created: v.dateCreated,
    path: v.path,
    visibility: v.visibility.toUpperCase(),
  });
  const findVersion = (s: Service, kind: Kind, versionSid: string): { resource: Resource; version: Version } | undefined => {
    for (const resource of s.resources[kind].values()) {
      const version = resource.versions.find((v) => v.sid === versionSid);
      if (version) return { resource, version };
    }
    return undefined;
  };
  const buildUrl = (r: ApiRequest, s: Service, b: Build) => `${serviceUrl(r, s)}/Builds/${b.sid}`;
  const buildBody = (r: ApiRequest, s: Service, b: Build) => {
    const url = buildUrl(r, s, b);
    const versions = (kind: Kind, sids: readonly string[]) =>
      sids.map((sid) => {
        const found = findVersion(s, kind, sid);
        return found ? buildVersionBody(s, kind, found.resource, found.version) : { sid };
      });
    return {
      sid: b.sid,
      account_sid: accountSid,
      service_sid: s.sid,
      status: b.status,
      asset_versions: versions('Assets', b.assetVersions),
      function_versions: versions('Functions', b.functionVersions),
      dependencies: b.dependencies,
      runtime: b.runtime,
      date_created: b.created,
      date_updated: b.updated,
      url,
      links: { build_status: `${url}/Status` },
    };
  };
  /** A fetch of a build or its status: the build completes (or fails) after the configured number of fetches. */
  const advance = (b: Build) => {
    if (b.status !== 'building') return;
    if (b.fetchesLeft > 0) {
      b.fetchesLeft -= 1;
      return;
    }
    b.status = outcome;
    b.updated = iso(clock());
  };
  const variableBody = (r: ApiRequest, s: Service, e: Environment, v: Variable) => ({
    sid: v.sid,
    account_sid: accountSid,
    service_sid: s.sid,
    environment_sid: e.sid,
    key: v.key,
    value: v.value,
    date_created: v.created,
    date_updated: v.updated,
    url: `${environmentUrl(r, s, e)}/Variables/${v.sid}`,
  });
  const deploymentBody = (r: ApiRequest, s: Service, e: Environment, d: Deployment) => ({
    sid: d.sid,
    account_sid: accountSid,
    service_sid: s.sid,
    environment_sid: e.sid,
    build_sid: d.buildSid,
    date_created: d.created,
    date_updated: d.created,
    url: `${environmentUrl(r, s, e)}/Deployments/${d.sid}`,
  });

  const entries = <T extends { seq: number }>(items: Iterable<T>, body: (item: T) => unknown): Entry[] => [...items].map((item) => ({ seq: item.seq, body: body(item) }));

  const routes: Route[] = [
    {
      method: 'GET',
      pattern: '/v1/Services',
      handle: (r) => ({ status: 200, body: pageV1('services', entries(services.values(), (s) => serviceBody(r, s)), r) }),
    },
    {
      method: 'POST',
      pattern: '/v1/Services',
      handle: (r) => {
        const uniqueName = required(r.form, 'UniqueName');
        const friendlyName = required(r.form, 'FriendlyName');
        if (!UNIQUE_NAME.test(uniqueName)) throw invalid('UniqueName', 'up to 50 letters, digits and hyphens (it becomes part of the domain)');
        if (friendlyName.length > 255) throw invalid('FriendlyName', 'up to 255 characters');
        if ([...services.values()].some((s) => s.uniqueName === uniqueName)) throw conflict(`Service with UniqueName ${uniqueName} already exists`);
        const now = iso(clock());
        const sid = newSid('ZS');
        const service: Service = {
          sid,
          seq: seq(),
          uniqueName,
          friendlyName,
          includeCredentials: optionalBoolean(r.form, 'IncludeCredentials') ?? true,
          uiEditable: optionalBoolean(r.form, 'UiEditable') ?? false,
          domainBase: `${uniqueName.toLowerCase()}-${digits(sid)}`,
          created: now,
          updated: now,
          environments: new Map(),
          resources: { Functions: new Map(), Assets: new Map() },
          builds: new Map(),
        };
        services.set(sid, service);
        return { status: 201, body: serviceBody(r, service) };
      },
    },
    { method: 'GET', pattern: '/v1/Services/:Sid', handle: (r, p) => ({ status: 200, body: serviceBody(r, findService(r, p.Sid as string)) }) },
    {
      method: 'POST',
      pattern: '/v1/Services/:Sid',
      handle: (r, p) => {
        const service = findService(r, p.Sid as string);
        const friendlyName = r.form.get('FriendlyName');
        if (friendlyName !== null) service.friendlyName = friendlyName;
        service.includeCredentials = optionalBoolean(r.form, 'IncludeCredentials') ?? service.includeCredentials;
        service.uiEditable = optionalBoolean(r.form, 'UiEditable') ?? service.uiEditable;
        service.updated = iso(clock());
        return { status: 200, body: serviceBody(r, service) };
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/Services/:Sid',
      handle: (r, p) => {
        services.delete(findService(r, p.Sid as string).sid);
        return { status: 204 };
      },
    },

    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/Environments',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        return { status: 200, body: pageV1('environments', entries(service.environments.values(), (e) => environmentBody(r, service, e)), r) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/Services/:ServiceSid/Environments',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const uniqueName = required(r.form, 'UniqueName');
        const suffix = r.form.get('DomainSuffix');
        if (uniqueName.length > 100) throw invalid('UniqueName', 'up to 100 characters');
        if (suffix !== null && !DOMAIN_SUFFIX.test(suffix)) throw invalid('DomainSuffix', 'up to 16 lower-case letters, digits and hyphens');
        const taken = [...service.environments.values()].some((e) => e.uniqueName === uniqueName || (suffix !== null && e.domainSuffix === suffix));
        if (taken) throw conflict('Environment with this UniqueName or DomainSuffix already exists.');
        const now = iso(clock());
        const env: Environment = {
          sid: newSid('ZE'),
          seq: seq(),
          uniqueName,
          domainSuffix: suffix,
          domainName: `${service.domainBase}${suffix ? `-${suffix}` : ''}.twil.io`,
          buildSid: null,
          created: now,
          updated: now,
          variables: new Map(),
          deployments: [],
        };
        service.environments.set(env.sid, env);
        return { status: 201, body: environmentBody(r, service, env) };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/Environments/:Sid',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        return { status: 200, body: environmentBody(r, service, findEnvironment(r, service, p.Sid as string)) };
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/Services/:ServiceSid/Environments/:Sid',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        service.environments.delete(findEnvironment(r, service, p.Sid as string).sid);
        return { status: 204 };
      },
    },

    ...(['Functions', 'Assets'] as const).flatMap((kind): Route[] => [
      {
        method: 'GET',
        pattern: `/v1/Services/:ServiceSid/${kind}`,
        handle: (r, p) => {
          const service = findService(r, p.ServiceSid as string);
          return { status: 200, body: pageV1(KINDS[kind].resourcesKey, entries(service.resources[kind].values(), (x) => resourceBody(r, service, kind, x)), r) };
        },
      },
      {
        method: 'POST',
        pattern: `/v1/Services/:ServiceSid/${kind}`,
        handle: (r, p) => {
          const service = findService(r, p.ServiceSid as string);
          const friendlyName = required(r.form, 'FriendlyName');
          if (friendlyName.length > 255) throw invalid('FriendlyName', 'up to 255 characters');
          if ([...service.resources[kind].values()].some((x) => x.friendlyName === friendlyName)) {
            throw conflict(`${KINDS[kind].noun} with FriendlyName ${friendlyName} already exists`);
          }
          const now = iso(clock());
          const resource: Resource = { sid: newSid('ZH'), seq: seq(), friendlyName, created: now, updated: now, versions: [] };
          service.resources[kind].set(resource.sid, resource);
          return { status: 201, body: resourceBody(r, service, kind, resource) };
        },
      },
      {
        method: 'GET',
        pattern: `/v1/Services/:ServiceSid/${kind}/:Sid`,
        handle: (r, p) => {
          const service = findService(r, p.ServiceSid as string);
          return { status: 200, body: resourceBody(r, service, kind, findIn(service.resources[kind], r, p.Sid as string)) };
        },
      },
      {
        method: 'POST',
        pattern: `/v1/Services/:ServiceSid/${kind}/:Sid`,
        handle: (r, p) => {
          const service = findService(r, p.ServiceSid as string);
          const resource = findIn(service.resources[kind], r, p.Sid as string);
          resource.friendlyName = required(r.form, 'FriendlyName');
          resource.updated = iso(clock());
          return { status: 200, body: resourceBody(r, service, kind, resource) };
        },
      },
      {
        method: 'DELETE',
        pattern: `/v1/Services/:ServiceSid/${kind}/:Sid`,
        handle: (r, p) => {
          const service = findService(r, p.ServiceSid as string);
          service.resources[kind].delete(findIn(service.resources[kind], r, p.Sid as string).sid);
          return { status: 204 };
        },
      },
      {
        method: 'GET',
        pattern: `/v1/Services/:ServiceSid/${kind}/:ResourceSid/Versions`,
        handle: (r, p) => {
          const service = findService(r, p.ServiceSid as string);
          const resource = findIn(service.resources[kind], r, p.ResourceSid as string);
          return { status: 200, body: pageV1(KINDS[kind].versionsKey, entries(resource.versions, (v) => versionBody(r, service, kind, resource, v)), r) };
        },
      },
      {
        method: 'GET',
        pattern: `/v1/Services/:ServiceSid/${kind}/:ResourceSid/Versions/:Sid`,
        handle: (r, p) => {
          const service = findService(r, p.ServiceSid as string);
          const resource = findIn(service.resources[kind], r, p.ResourceSid as string);
          const version = resource.versions.find((v) => v.sid === p.Sid);
          if (!version) throw notFound(r.path);
          return { status: 200, body: versionBody(r, service, kind, resource, version) };
        },
      },
    ]),
    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/Functions/:FunctionSid/Versions/:Sid/Content',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const fn = findIn(service.resources.Functions, r, p.FunctionSid as string);
        const version = fn.versions.find((v) => v.sid === p.Sid);
        if (!version) throw notFound(r.path);
        const url = `${resourceUrl(r, service, 'Functions', fn)}/Versions/${version.sid}/Content`;
        return {
          status: 200,
          body: { sid: version.sid, account_sid: accountSid, service_sid: service.sid, function_sid: fn.sid, content: version.content.toString('utf8'), url },
        };
      },
    },

    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/Builds',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        return { status: 200, body: pageV1('builds', entries(service.builds.values(), (b) => buildBody(r, service, b)), r) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/Services/:ServiceSid/Builds',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const functionVersions = r.form.getAll('FunctionVersions');
        const assetVersions = r.form.getAll('AssetVersions');
        for (const [name, kind, sids] of [['FunctionVersions', 'Functions', functionVersions], ['AssetVersions', 'Assets', assetVersions]] as const) {
          for (const sid of sids) if (!findVersion(service, kind, sid)) throw invalid(name, `${sid} is not a ${KINDS[kind].noun} Version of this Service`);
        }
        const paths = [...functionVersions.map((sid) => findVersion(service, 'Functions', sid)), ...assetVersions.map((sid) => findVersion(service, 'Assets', sid))].map((f) => f?.version.path);
        const clash = paths.find((path, i) => paths.indexOf(path) !== i);
        if (clash !== undefined) throw invalid('FunctionVersions', `two versions in the build have the path ${clash}`);
        const runtime = r.form.get('Runtime') ?? DEFAULT_RUNTIME;
        if (!RUNTIMES.includes(runtime)) throw invalid('Runtime', `must be one of ${RUNTIMES.join(', ')}`);
        const now = iso(clock());
        const build: Build = {
          sid: newSid('ZB'),
          seq: seq(),
          status: 'building',
          fetchesLeft: buildingFetches,
          functionVersions,
          assetVersions,
          dependencies: dependencies(r.form.get('Dependencies')),
          runtime,
          created: now,
          updated: now,
        };
        service.builds.set(build.sid, build);
        return { status: 201, body: buildBody(r, service, build) };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/Builds/:Sid',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const build = findIn(service.builds, r, p.Sid as string);
        advance(build);
        return { status: 200, body: buildBody(r, service, build) };
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/Services/:ServiceSid/Builds/:Sid',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const build = findIn(service.builds, r, p.Sid as string);
        if ([...service.environments.values()].some((e) => e.buildSid === build.sid)) throw conflict(`Build ${build.sid} is deployed to an environment`);
        service.builds.delete(build.sid);
        return { status: 204 };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/Builds/:Sid/Status',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const build = findIn(service.builds, r, p.Sid as string);
        advance(build);
        return { status: 200, body: { sid: build.sid, account_sid: accountSid, service_sid: service.sid, status: build.status, url: `${buildUrl(r, service, build)}/Status` } };
      },
    },

    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Deployments',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const env = findEnvironment(r, service, p.EnvironmentSid as string);
        return { status: 200, body: pageV1('deployments', entries(env.deployments, (d) => deploymentBody(r, service, env, d)), r) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Deployments',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const env = findEnvironment(r, service, p.EnvironmentSid as string);
        const buildSid = required(r.form, 'BuildSid');
        const build = service.builds.get(buildSid);
        if (!build) throw invalid('BuildSid', `${buildSid} is not a Build of this Service`);
        if (build.status !== 'completed') throw invalid('BuildSid', `Build ${buildSid} is ${build.status}, not completed`);
        const deployment: Deployment = { sid: newSid('ZD'), seq: seq(), buildSid, created: iso(clock()) };
        env.deployments.push(deployment);
        env.buildSid = buildSid;
        env.updated = deployment.created;
        return { status: 201, body: deploymentBody(r, service, env, deployment) };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Deployments/:Sid',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const env = findEnvironment(r, service, p.EnvironmentSid as string);
        const deployment = env.deployments.find((d) => d.sid === p.Sid);
        if (!deployment) throw notFound(r.path);
        return { status: 200, body: deploymentBody(r, service, env, deployment) };
      },
    },

    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Variables',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const env = findEnvironment(r, service, p.EnvironmentSid as string);
        return { status: 200, body: pageV1('variables', entries(env.variables.values(), (v) => variableBody(r, service, env, v)), r) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Variables',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const env = findEnvironment(r, service, p.EnvironmentSid as string);
        const key = variableKey(required(r.form, 'Key'));
        const value = r.form.get('Value');
        if (value === null) throw new TwilioError(400, 20001, 'Missing required parameter Value in the post body');
        if ([...env.variables.values()].some((v) => v.key === key)) throw conflict(`Variable with Key ${key} already exists`);
        const now = iso(clock());
        const variable: Variable = { sid: newSid('ZV'), seq: seq(), key, value, created: now, updated: now };
        env.variables.set(variable.sid, variable);
        return { status: 201, body: variableBody(r, service, env, variable) };
      },
    },
    {
      method: 'GET',
      pattern: '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Variables/:Sid',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const env = findEnvironment(r, service, p.EnvironmentSid as string);
        return { status: 200, body: variableBody(r, service, env, findIn(env.variables, r, p.Sid as string)) };
      },
    },
    {
      method: 'POST',
      pattern: '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Variables/:Sid',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const env = findEnvironment(r, service, p.EnvironmentSid as string);
        const variable = findIn(env.variables, r, p.Sid as string);
        const key = r.form.get('Key');
        if (key !== null) {
          const checked = variableKey(key);
          if ([...env.variables.values()].some((v) => v.key === checked && v.sid !== variable.sid)) throw conflict(`Variable with Key ${checked} already exists`);
          variable.key = checked;
        }
        const value = r.form.get('Value');
        if (value !== null) variable.value = value;
        variable.updated = iso(clock());
        return { status: 200, body: variableBody(r, service, env, variable) };
      },
    },
    {
      method: 'DELETE',
      pattern: '/v1/Services/:ServiceSid/Environments/:EnvironmentSid/Variables/:Sid',
      handle: (r, p) => {
        const service = findService(r, p.ServiceSid as string);
        const env = findEnvironment(r, service, p.EnvironmentSid as string);
        env.variables.delete(findIn(env.variables, r, p.Sid as string).sid);
        return { status: 204 };
      },
    },
  ];

  const uploadRoutes: Route[] = (['Functions', 'Assets'] as const).map((kind) => ({
    method: 'POST',
    pattern: `/v1/Services/:ServiceSid/${kind}/:ResourceSid/Versions`,
    handle: async (r: ApiRequest, p: Readonly<Record<string, string>>) => {
      const service = findService(r, p.ServiceSid as string);
      const resource = findIn(service.resources[kind], r, p.ResourceSid as string);
      const upload = await multipartVersion(r);
      const version: Version = { sid: newSid('ZN'), seq: seq(), ...upload, dateCreated: iso(clock()) };
      resource.versions.push(version);
      // The upload host answers on the API host's URLs.
      const apiBase = r.base.replace(/-upload$/, '');
      return { status: 201, body: versionBody({ ...r, base: apiBase }, service, kind, resource, version) };
    },
  }));

  const copyVersion = ({ sid, path, visibility, content, contentType, filename, dateCreated }: Version): UploadedVersion => ({
    sid,
    path,
    visibility,
    content: Buffer.from(content),
    contentType,
    filename,
    dateCreated,
  });

  return {
    routes,
    uploadRoutes,
    snapshot: () =>
      [...services.values()].map((s) => ({
        sid: s.sid,
        uniqueName: s.uniqueName,
        friendlyName: s.friendlyName,
        includeCredentials: s.includeCredentials,
        uiEditable: s.uiEditable,
        environments: [...s.environments.values()].map((e) => ({
          sid: e.sid,
          uniqueName: e.uniqueName,
          domainSuffix: e.domainSuffix,
          domainName: e.domainName,
          buildSid: e.buildSid,
          variables: Object.fromEntries([...e.variables.values()].map((v) => [v.key, v.value])),
          deployments: e.deployments.map((d) => ({ sid: d.sid, buildSid: d.buildSid })),
        })),
        functions: [...s.resources.Functions.values()].map((x) => ({ sid: x.sid, friendlyName: x.friendlyName, versions: x.versions.map(copyVersion) })),
        assets: [...s.resources.Assets.values()].map((x) => ({ sid: x.sid, friendlyName: x.friendlyName, versions: x.versions.map(copyVersion) })),
        builds: [...s.builds.values()].map((b) => ({
          sid: b.sid,
          status: b.status,
          functionVersions: [...b.functionVersions],
          assetVersions: [...b.assetVersions],
          dependencies: b.dependencies.map((d) => ({ ...d })),
          runtime: b.runtime,
        })),
      })),
    setBuildOutcome(next, fetches) {
      outcome = next;
      if (fetches !== undefined) buildingFetches = fetches;
    },
  };
}

/** Twilio's variable keys: letters, digits and underscores, not starting with a digit. */
function variableKey(key: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(key)) throw invalid('Key', 'letters, digits and underscores, not starting with a digit');
  return key;
}

/**
 * The Dependencies parameter: a JSON list of {name, version}. serverless-api
 * sends it wrapped in one more pair of double quotes (`"[...]"`), which
 * Twilio accepts, so that pair is taken off first.
 */
function dependencies(text: string | null): Array<{ name: string; version: string }> {
  if (text === null || text === '') return [];
  const unwrapped = text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
  let list: unknown;
  try {
    list = JSON.parse(unwrapped);
  } catch {
    throw invalid('Dependencies', 'must be a JSON list of {"name", "version"} objects');
  }
  if (!Array.isArray(list) || !list.every((d) => typeof d === 'object' && d !== null && typeof d.name === 'string' && typeof d.version === 'string')) {
    throw invalid('Dependencies', 'must be a JSON list of {"name", "version"} objects');
  }
  return list.map((d: { name: string; version: string }) => ({ name: d.name, version: d.version }));
}

/**
 * The upload host's multipart body: exactly the fields Path (starting with
 * "/"), Visibility (public, protected or private) and Content (a file part),
 * once each.
 */
async function multipartVersion(r: ApiRequest): Promise<Omit<UploadedVersion, 'sid' | 'dateCreated'>> {
  const fix = 'send multipart/form-data with the fields Path, Visibility and Content (a file part)';
  if (!/^multipart\/form-data;\s*boundary=/i.test(r.contentType)) throw new TwilioError(400, 20001, `Unsupported Content-Type: ${fix}`);
  if (r.body.length > MAX_UPLOAD_BYTES + 64 * 1024) throw new TwilioError(413, 20001, `The version is larger than ${MAX_UPLOAD_BYTES} bytes`);
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(r.body), { headers: { 'content-type': r.contentType } }).formData();
  } catch {
    throw new TwilioError(400, 20001, `The multipart body cannot be parsed: ${fix}`);
  }
  const names = [...form.keys()];
  const unexpected = names.find((n) => n !== 'Path' && n !== 'Visibility' && n !== 'Content');
  if (unexpected !== undefined) throw new TwilioError(400, 20001, `Unexpected field ${unexpected}: ${fix}`);
  for (const name of ['Path', 'Visibility', 'Content']) {
    const count = names.filter((n) => n === name).length;
    if (count === 0) throw new TwilioError(400, 20001, `Missing required parameter ${name}: ${fix}`);
    if (count > 1) throw new TwilioError(400, 20001, `Field ${name} given ${count} times`);
  }
  const path = form.get('Path');
  const visibility = form.get('Visibility');
  const content = form.get('Content');
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > 255) throw invalid('Path', 'a text field starting with / (up to 255 characters)');
  if (typeof visibility !== 'string' || !VISIBILITIES.includes(visibility)) throw invalid('Visibility', 'must be public, protected or private');
  if (typeof content === 'string' || content === null) throw invalid('Content', 'must be a file part (with a filename), not a text field');
  const bytes = Buffer.from(await content.arrayBuffer());
  if (bytes.length > MAX_UPLOAD_BYTES) throw new TwilioError(413, 20001, `The version is larger than ${MAX_UPLOAD_BYTES} bytes`);
  return { path, visibility: visibility as Visibility, content: bytes, contentType: content.type, filename: content.name };
}
