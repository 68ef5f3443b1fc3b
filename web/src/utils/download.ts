import { ElNotification } from 'element-plus'
import { h, ref } from 'vue'
import type { PathsWithMethod } from 'openapi-typescript-helpers'
import type { paths } from '../api/schema'
import { ApiError, bearer } from '../api/client'

type Query = Record<string, string | number | boolean | undefined | null>

function urlOf(path: string, pathParams: Record<string, string | number>, query: Query): string {
  let url = path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(String(pathParams[k])))
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v))
  if ([...q].length) url += '?' + q.toString()
  return url
}

function filenameOf(res: Response, fallback: string): string {
  const cd = res.headers.get('content-disposition') || ''
  const star = /filename\*=UTF-8''([^;]+)/i.exec(cd)
  if (star) return decodeURIComponent(star[1])
  const plain = /filename="?([^";]+)"?/i.exec(cd)
  return plain ? plain[1] : fallback
}

/** Fetch a file of the platform (with the session), streaming so that progress can be shown. */
export async function fetchFile(
  path: PathsWithMethod<paths, 'get'>,
  pathParams: Record<string, string | number>,
  query: Query = {},
  onProgress?: (received: number, total: number) => void,
): Promise<{ blob: Blob; name: string; type: string }> {
  const headers: Record<string, string> = {}
  const token = bearer()
  if (token) headers.Authorization = `Bearer ${token}`
  let res: Response
  try {
    res = await fetch(urlOf(path, pathParams, query), { credentials: 'same-origin', headers })
  } catch {
    throw new ApiError(0, { code: 'network_error', message: '网络连接失败，请检查网络后重试' })
  }
  if (!res.ok) {
    let body
    try { body = await res.json() } catch { body = undefined }
    throw new ApiError(res.status, body)
  }
  const total = Number(res.headers.get('content-length') || 0)
  const type = res.headers.get('content-type') || 'application/octet-stream'
  const chunks: Uint8Array[] = []
  let received = 0
  if (res.body) {
    const reader = res.body.getReader()
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      chunks.push(value)
      received += value.length
      onProgress?.(received, total)
    }
  }
  return { blob: new Blob(chunks, { type }), name: filenameOf(res, 'download'), type }
}

function save(blob: Blob, name: string) {
  const a = document.createElement('a')
  a.href = URL.createObjectURL(blob)
  a.download = name
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(a.href), 10000)
}

/** 导出 / 下载: a notification with the progress appears when the file takes more than a moment. */
export async function download(
  path: PathsWithMethod<paths, 'get'>,
  pathParams: Record<string, string | number>,
  query: Query = {},
  label = '文件',
): Promise<void> {
  const received = ref(0)
  const total = ref(0)
  let note: ReturnType<typeof ElNotification> | null = null
  const timer = setTimeout(() => {
    note = ElNotification({
      title: `正在下载${label}`,
      duration: 0,
      message: () =>
        h('div', { class: 'download-progress' }, [
          h('div', total.value ? `${Math.round((received.value / total.value) * 100)}%` : `已接收 ${(received.value / 1024).toFixed(0)} KB`),
          h('progress', { max: total.value || undefined, value: total.value ? received.value : undefined, style: 'width: 220px' }),
        ]),
    })
  }, 400)
  try {
    const file = await fetchFile(path, pathParams, query, (r, t) => {
      received.value = r
      total.value = t
    })
    save(file.blob, file.name)
  } finally {
    clearTimeout(timer)
    ;(note as ReturnType<typeof ElNotification> | null)?.close()
  }
}
