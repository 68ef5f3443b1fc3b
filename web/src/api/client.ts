/**
 * The typed API client: openapi-fetch over the paths generated from the platform's OpenAPI
 * document (schema.d.ts, `make web-types`). Every request and reply type is derived from the
 * generated `paths` / `components['schemas']`: a path the platform does not serve with that
 * method, a wrong path or query parameter, a wrong body or a reply field the contract does not
 * declare is a compile error (`npm run typecheck`, run by `npm run build`).
 */
import createClient from 'openapi-fetch'
import type { PathsWithMethod } from 'openapi-typescript-helpers'
import type { components, paths } from './schema'

export type Schemas = components['schemas']
/** A schema of the platform's OpenAPI document by name: `Schema<'TeamPublic'>`. */
export type Schema<K extends keyof Schemas> = Schemas[K]
/** The error reply: stable `code`, Chinese `message`, the `field` concerned. */
export type ApiErrorBody = Schema<'Error'>

export type Method = 'get' | 'post' | 'patch' | 'put' | 'delete'
type Op<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>
type Success<R> = R extends { 200: infer X }
  ? X
  : R extends { 201: infer X }
    ? X
    : R extends { 202: infer X }
      ? X
      : R extends { 204: unknown }
        ? { content: { 'application/json': void } }
        : never
type JsonOf<X> = X extends { content: { 'application/json': infer J } } ? J : never

/** The JSON reply of an operation: `Reply<'/admin/v1/projects/{code}/teams', 'get'>`. */
export type Reply<P extends keyof paths, M extends Method = 'get'> =
  Op<P, M> extends { responses: infer R } ? JsonOf<Success<R>> : never
/** One row of a list reply (`{data: [...], total}`). */
export type Row<P extends keyof paths, M extends Method = 'get'> =
  Reply<P, M> extends { data: (infer T)[] } ? T : never
/** The query parameters of an operation. */
export type Query<P extends keyof paths, M extends Method = 'get'> =
  Op<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never
/** A list filter's value: the generated parameter type, or '' for 全部 (not sent). */
export type Filter<P extends keyof paths, K extends keyof Query<P>> = NonNullable<Query<P>[K]> | ''
type PathParams<P extends keyof paths, M extends Method> =
  Op<P, M> extends { parameters: { path: infer X } } ? X : never
/** The request body: the JSON schema, or FormData where the operation takes multipart. */
export type Body<P extends keyof paths, M extends Method> =
  Op<P, M> extends { requestBody?: { content: infer C } }
    ? (C extends { 'application/json': infer J } ? J : never) | (C extends { 'multipart/form-data': unknown } ? FormData : never)
    : never

/**
 * A filter left empty in a form ('' or null) is not sent, so a query value may also be empty.
 * Everything else is the generated parameter type.
 */
type LooseQuery<Q> = [Q] extends [never] ? never : { [K in keyof Q]?: Q[K] | '' | null }
type Init<P extends keyof paths, M extends Method> = ([PathParams<P, M>] extends [never]
  ? { path?: undefined }
  : { path: PathParams<P, M> }) &
  ([Query<P, M>] extends [never] ? { query?: undefined } : { query?: LooseQuery<Query<P, M>> })
type InitArgs<P extends keyof paths, M extends Method> = [PathParams<P, M>] extends [never]
  ? [init?: Init<P, M>]
  : [init: Init<P, M>]
type BodyArgs<P extends keyof paths, M extends Method> = [Body<P, M>] extends [never]
  ? [init?: Init<P, M>]
  : undefined extends Op<P, M>['requestBody']
    ? [init: Init<P, M>, body?: Body<P, M>]
    : [init: Init<P, M>, body: Body<P, M>]

export const client = createClient<paths>({ baseUrl: '', credentials: 'same-origin' })

/** A bearer token (QR sign-in hands it over the WebSocket); the SSO uses the HttpOnly cookie. */
const TOKEN_KEY = 'realname.token'
export function setBearer(token: string | null): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token)
  else sessionStorage.removeItem(TOKEN_KEY)
}
export function bearer(): string | null {
  return sessionStorage.getItem(TOKEN_KEY)
}

client.use({
  onRequest({ request }) {
    const token = bearer()
    if (token && !request.headers.has('Authorization')) {
      request.headers.set('Authorization', `Bearer ${token}`)
    }
    return request
  },
})

/** An error reply of the platform: stable `code`, Chinese `message`, the `field` concerned. */
export class ApiError extends Error {
  code: string
  field?: string
  status: number
  detail?: unknown
  constructor(status: number, body: { code?: string; message?: string; field?: string | null; detail?: unknown } | undefined) {
    super(body?.message || (status >= 500 ? '服务器暂时无法处理，请稍后再试' : '请求失败'))
    this.status = status
    this.code = body?.code || 'http_error'
    this.field = body?.field ?? undefined
    this.detail = body?.detail
  }
}

/** Called on 401 (the session ended): the app sends the user to the sign-in page. */
let onUnauthenticated: () => void = () => {}
export function whenSignedOut(fn: () => void): void {
  onUnauthenticated = fn
}

function cleanQuery(query?: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!query) return undefined
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') out[k] = v
  }
  return out
}

type Loose = { path?: Record<string, unknown>; query?: Record<string, unknown> }
type Fetcher = (p: string, i: unknown) => Promise<{ data?: unknown; error?: unknown; response: Response }>

async function call(method: Method, path: string, params: Loose = {}, body?: unknown, parseAs: 'json' | 'blob' = 'json'): Promise<unknown> {
  const init: Record<string, unknown> = {
    params: { path: params.path, query: cleanQuery(params.query) },
    parseAs,
  }
  if (body instanceof FormData) {
    init.body = body
    init.bodySerializer = (b: FormData) => b
  } else if (body !== undefined) {
    init.body = body
  }
  // The typed surface is `api` below; openapi-fetch's own overloads are not re-derived here.
  const fn = (client as unknown as Record<string, Fetcher>)[method.toUpperCase()]
  let result
  try {
    result = await fn(path, init)
  } catch {
    throw new ApiError(0, { code: 'network_error', message: '网络连接失败，请检查网络后重试' })
  }
  if (!result.response.ok) {
    if (result.response.status === 401) onUnauthenticated()
    let err = result.error as Partial<ApiErrorBody> | undefined
    if (err instanceof Blob) {
      try {
        err = JSON.parse(await err.text())
      } catch {
        err = undefined
      }
    }
    throw new ApiError(result.response.status, err)
  }
  return result.data
}

/**
 * Typed calls: the path names an operation of the generated `paths`; its path and query
 * parameters, its body and its reply are the generated types.
 */
export const api = {
  get: <P extends PathsWithMethod<paths, 'get'>>(path: P, ...[init]: InitArgs<P, 'get'>) =>
    call('get', path, init as Loose) as Promise<Reply<P, 'get'>>,
  post: <P extends PathsWithMethod<paths, 'post'>>(path: P, ...[init, body]: BodyArgs<P, 'post'>) =>
    call('post', path, init as Loose, body ?? {}) as Promise<Reply<P, 'post'>>,
  patch: <P extends PathsWithMethod<paths, 'patch'>>(path: P, ...[init, body]: BodyArgs<P, 'patch'>) =>
    call('patch', path, init as Loose, body ?? {}) as Promise<Reply<P, 'patch'>>,
  delete: <P extends PathsWithMethod<paths, 'delete'>>(path: P, ...[init]: InitArgs<P, 'delete'>) =>
    call('delete', path, init as Loose) as Promise<Reply<P, 'delete'>>,
  /** A file (export, attachment, photo) as a Blob. */
  blob: <P extends PathsWithMethod<paths, 'get'>>(path: P, ...[init]: InitArgs<P, 'get'>) =>
    call('get', path, init as Loose, undefined, 'blob') as Promise<Blob>,
}
