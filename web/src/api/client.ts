/**
 * The typed API client: openapi-fetch over the paths generated from the platform's OpenAPI
 * document (schema.d.ts). A path that the platform does not serve with that method does not
 * type-check. Reply bodies are typed with the local interfaces of ./types.ts until the contract
 * issue adds response schemas to the document.
 */
import createClient from 'openapi-fetch'
import type { PathsWithMethod } from 'openapi-typescript-helpers'
import type { paths } from './schema'
import type { ApiErrorBody } from './types'

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
  constructor(status: number, body: Partial<ApiErrorBody> | undefined) {
    super(body?.message || (status >= 500 ? '服务器暂时无法处理，请稍后再试' : '请求失败'))
    this.status = status
    this.code = body?.code || 'http_error'
    this.field = body?.field
    this.detail = body?.detail
  }
}

/** Called on 401 (the session ended): the app sends the user to the sign-in page. */
let onUnauthenticated: () => void = () => {}
export function whenSignedOut(fn: () => void): void {
  onUnauthenticated = fn
}

type Params = { path?: Record<string, string | number>; query?: Record<string, unknown> }
type Method = 'get' | 'post' | 'patch' | 'put' | 'delete'
type Upper = { get: 'GET'; post: 'POST'; patch: 'PATCH'; put: 'PUT'; delete: 'DELETE' }

function cleanQuery(query?: Record<string, unknown>): Record<string, unknown> | undefined {
  if (!query) return undefined
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') out[k] = v
  }
  return out
}

async function call<T>(
  method: Method,
  path: string,
  params: Params = {},
  body?: unknown,
  parseAs: 'json' | 'blob' = 'json',
): Promise<T> {
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
  const fn = (client as unknown as Record<string, (p: string, i: unknown) => Promise<{
    data?: unknown
    error?: unknown
    response: Response
  }>>)[method.toUpperCase() as Upper[Method]]
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
  return result.data as T
}

/** Typed paths per method: a typo or a wrong method is a compile error. */
export const api = {
  get: <T>(path: PathsWithMethod<paths, 'get'>, params?: Params) => call<T>('get', path, params),
  post: <T>(path: PathsWithMethod<paths, 'post'>, params?: Params, body?: unknown) =>
    call<T>('post', path, params, body ?? {}),
  patch: <T>(path: PathsWithMethod<paths, 'patch'>, params?: Params, body?: unknown) =>
    call<T>('patch', path, params, body ?? {}),
  delete: <T>(path: PathsWithMethod<paths, 'delete'>, params?: Params) =>
    call<T>('delete', path, params),
  /** A file (export, attachment, photo) as a Blob. */
  blob: (path: PathsWithMethod<paths, 'get'>, params?: Params) =>
    call<Blob>('get', path, params, undefined, 'blob'),
}
