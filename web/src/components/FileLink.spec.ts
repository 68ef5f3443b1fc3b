import { describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'

const fetched: unknown[] = []
vi.mock('../utils/download', () => ({
  fetchFile: async (path: string, params: unknown) => {
    fetched.push([path, params])
    return { blob: new Blob(['%PDF-1.4'], { type: 'application/pdf' }), type: 'application/pdf' }
  },
}))

import FileLink from './FileLink.vue'

describe('FileLink (a project file shown in the page)', () => {
  it('在线预览 by default, or the given text; clicked, the file is fetched and shown, 关闭 closes it', async () => {
    URL.createObjectURL = vi.fn(() => 'blob:preview')
    URL.revokeObjectURL = vi.fn()
    const w = mount(FileLink, { props: { code: 'P001', file: { id: 9, name: '合同.pdf' } }, global: { plugins: [ElementPlus] }, attachTo: document.body })
    expect(w.find('button').text()).toBe('在线预览')
    expect(document.querySelector('.el-dialog')).toBeNull()
    await w.find('button').trigger('click')
    await new Promise((r) => setTimeout(r, 0))
    expect(fetched).toEqual([['/admin/v1/projects/{code}/files/{file_id}', { code: 'P001', file_id: 9 }]])
    expect(document.querySelector('.el-dialog__title')?.textContent).toBe('在线预览 · 合同.pdf')
    expect(document.querySelector('iframe.pdf')?.getAttribute('src')).toBe('blob:preview')
    const close = Array.from(document.querySelectorAll('.el-dialog button')).find((b) => b.textContent?.trim() === '关闭') as HTMLElement
    close.click()
    await new Promise((r) => setTimeout(r, 0))
    expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:preview')
    w.unmount()

    const named = mount(FileLink, { props: { code: 'P001', file: { id: 1, name: '证明.jpg' } }, slots: { default: '证明.jpg' }, global: { plugins: [ElementPlus] } })
    expect(named.find('button').text()).toBe('证明.jpg')
  })
})
