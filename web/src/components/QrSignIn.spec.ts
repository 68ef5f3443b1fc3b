import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import QrSignIn from './QrSignIn.vue'
import type { Schema } from '../api/client'

type QrTicket = Schema<'QrTicket'>

/** A WebSocket the test drives: the server's messages are pushed with `push`. */
class FakeSocket {
  url: string
  closed = false
  onmessage: ((e: MessageEvent) => void) | null = null
  onclose: (() => void) | null = null
  onerror: (() => void) | null = null
  constructor(url: string) { this.url = url }
  push(data: unknown) { this.onmessage?.({ data: JSON.stringify(data) } as MessageEvent) }
  close() { this.closed = true }
}

let sockets: FakeSocket[] = []
let tickets = 0
const createTicket = async (): Promise<QrTicket> => {
  tickets += 1
  return { ticket: `t${tickets}`, secret: `s${tickets}`, status: 'pending', expires_in: 120, message: '请使用微信小程序扫描二维码', qr_image: `data:image/png;base64,QR${tickets}` }
}
const openSocket = (url: string) => {
  const s = new FakeSocket(url)
  sockets.push(s)
  return s as unknown as WebSocket
}

function make(props: Record<string, unknown> = {}) {
  return mount(QrSignIn, { props: { createTicket, openSocket, ...props }, global: { plugins: [ElementPlus] } })
}

beforeEach(() => { sockets = []; tickets = 0; vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] }) })
afterEach(() => { vi.useRealTimers() })

describe('QrSignIn (个人扫码登录)', () => {
  it('shows the QR image and listens on the ticket\'s WebSocket with its secret', async () => {
    const w = make()
    await flushPromises()
    expect(w.find('img.qr-img').attributes('src')).toBe('data:image/png;base64,QR1')
    expect(w.find('.qr').attributes('data-status')).toBe('pending')
    expect(sockets[0].url).toMatch(/\/admin\/v1\/auth\/qr\/tickets\/t1\/ws\?secret=s1$/)
    expect(w.text()).toContain('请使用微信小程序扫描二维码')
    vi.advanceTimersByTime(3000)
    await flushPromises()
    expect(w.text()).toContain('二维码 117 秒后过期')
  })

  it('pending → scanned → confirmed hands the session over', async () => {
    const w = make()
    await flushPromises()
    sockets[0].push({ ticket: 't1', status: 'scanned', message: '已扫码，请在手机上确认登录', expires_in: 100 })
    await flushPromises()
    expect(w.find('.qr').attributes('data-status')).toBe('scanned')
    expect(w.text()).toContain('已扫码，请在手机上确认登录')
    expect(w.emitted('signed-in')).toBeUndefined()
    sockets[0].push({ ticket: 't1', status: 'confirmed', message: '登录成功', token: 'tok', account: { kind: 'person', display_name: '王建国' } })
    await flushPromises()
    const ev = w.emitted('signed-in')!
    expect(ev).toHaveLength(1)
    expect((ev[0][0] as { token: string }).token).toBe('tok')
    expect(sockets[0].closed).toBe(true)
  })

  it('cancelled by a non-post person shows the reason and offers a refresh', async () => {
    const w = make()
    await flushPromises()
    sockets[0].push({ ticket: 't1', status: 'cancelled', message: '已取消登录，请刷新二维码', reason: 'not_post_personnel' })
    await flushPromises()
    expect(w.find('.qr').attributes('data-status')).toBe('cancelled')
    expect(w.text()).toContain('您不是该项目的岗位人员')
    expect(w.emitted('signed-in')).toBeUndefined()
    await w.find('.qr-refresh').trigger('click')
    await flushPromises()
    expect(tickets).toBe(2)
    expect(w.find('.qr').attributes('data-status')).toBe('pending')
  })

  it('an expired code is replaced by a new one', async () => {
    const w = make()
    await flushPromises()
    sockets[0].push({ ticket: 't1', status: 'expired', message: '二维码已过期，请刷新二维码' })
    await flushPromises()
    expect(sockets[0].closed).toBe(true)
    expect(tickets).toBe(2)
    expect(sockets[1].url).toContain('/t2/ws?secret=s2')
    expect(w.find('img.qr-img').attributes('src')).toBe('data:image/png;base64,QR2')
  })

  it('an expired code without auto refresh waits for the user', async () => {
    const w = make({ autoRefresh: false })
    await flushPromises()
    sockets[0].push({ ticket: 't1', status: 'expired', message: '二维码已过期，请刷新二维码' })
    await flushPromises()
    expect(tickets).toBe(1)
    expect(w.text()).toContain('二维码已过期')
    expect(w.find('.qr-refresh').exists()).toBe(true)
  })

  it('an error from the server (rate limit) is shown', async () => {
    const w = make()
    await flushPromises()
    sockets[0].push({ code: 'rate_limited', message: '操作过于频繁，请稍后再试' })
    await flushPromises()
    expect(w.find('.qr-message').text()).toBe('操作过于频繁，请稍后再试')
  })
})
