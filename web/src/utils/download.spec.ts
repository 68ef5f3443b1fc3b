import { afterEach, describe, expect, it, vi } from 'vitest'
import { download } from './download'

/** A file the server streams in two halves, `gap` ms apart (a large export on a slow line). */
function slowFile(gap: number): Response {
  const half = new Uint8Array(50_000).fill(65)
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(half)
      await new Promise((r) => setTimeout(r, gap))
      controller.enqueue(half)
      controller.close()
    },
  })
  return new Response(body, {
    status: 200,
    headers: {
      'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      'content-length': '100000',
      'content-disposition': "attachment; filename*=UTF-8''%E6%89%93%E5%8D%A1%E7%BB%9F%E8%AE%A1.xlsx",
    },
  })
}

const notices = () => [...document.querySelectorAll('.el-notification')].filter((n) => (n as HTMLElement).style.display !== 'none')

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('download (导出数据)', () => {
  it('shows the progress when the file takes more than a moment, and saves it under its name', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => slowFile(900)))
    const clicked: string[] = []
    URL.createObjectURL = vi.fn(() => 'blob:x')
    URL.revokeObjectURL = vi.fn()
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) { clicked.push(this.download) }
    const done = download('/admin/v1/projects/{code}/attendance/punch-stats', { code: 'P1' }, { format: 'xlsx', month: '' }, '打卡统计')
    await new Promise((r) => setTimeout(r, 700))
    const shown = notices()
    const note = shown[shown.length - 1] as HTMLElement
    expect(note.textContent).toContain('正在下载打卡统计')
    expect(note.textContent).toContain('50%')
    expect(note.querySelector('progress')?.getAttribute('max')).toBe('100000')
    await done
    expect(clicked).toEqual(['打卡统计.xlsx'])
    const url = (fetch as unknown as { mock: { calls: string[][] } }).mock.calls[0][0]
    expect(url).toBe('/admin/v1/projects/P1/attendance/punch-stats?format=xlsx')
  })

  it('shows nothing for a file that arrives at once', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => slowFile(0)))
    HTMLAnchorElement.prototype.click = () => undefined
    await download('/admin/v1/projects/{code}/roster/export', { code: 'P1' }, {}, '花名册')
    await new Promise((r) => setTimeout(r, 500))
    expect(notices().filter((n) => n.textContent?.includes('正在下载花名册'))).toEqual([])
  })

  it('turns an error reply into the API message', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response(JSON.stringify({ code: 'invalid_month', message: '考勤月份格式应为 YYYY-MM', field: 'month' }), { status: 422, headers: { 'content-type': 'application/json' } })))
    await expect(download('/admin/v1/projects/{code}/attendance/punch-stats', { code: 'P1' }, { month: 'x' })).rejects.toMatchObject({ code: 'invalid_month', field: 'month' })
  })
})
