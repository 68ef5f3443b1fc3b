import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import FilePick from './FilePick.vue'

function choose(input: HTMLInputElement, files: File[]) {
  Object.defineProperty(input, 'files', { value: files, configurable: true })
  input.dispatchEvent(new Event('change'))
}

describe('FilePick (a form\'s file field)', () => {
  it('takes one file for a single model, PDF / JPG / PNG by default', async () => {
    const w = mount(FilePick, { props: { modelValue: null as File | null } })
    const input = w.find('input').element as HTMLInputElement
    expect(input.type).toBe('file')
    expect(input.accept).toBe('.pdf,.jpg,.jpeg,.png')
    expect(input.multiple).toBe(false)
    const a = new File(['a'], '合同.pdf')
    choose(input, [a, new File(['b'], 'b.pdf')])
    expect(w.emitted('update:modelValue')![0]).toEqual([a])
    choose(input, [])
    expect(w.emitted('update:modelValue')![1]).toEqual([null])
  })

  it('takes every file for a list model; attributes reach the input', () => {
    const w = mount(FilePick, { props: { modelValue: [] as File[], accept: '.xlsx' }, attrs: { 'data-test': 'evidence' } })
    const input = w.find('input').element as HTMLInputElement
    expect(input.multiple).toBe(true)
    expect(input.accept).toBe('.xlsx')
    expect(input.getAttribute('data-test')).toBe('evidence')
    const files = [new File(['a'], 'a.jpg'), new File(['b'], 'b.png')]
    choose(input, files)
    expect(w.emitted('update:modelValue')![0]).toEqual([files])
  })

  it('speaks Chinese whatever the browser\'s language: 选择文件 opens the hidden input, the names show', async () => {
    const w = mount(FilePick, { props: { modelValue: null as File | null }, global: { plugins: [ElementPlus] } })
    const input = w.find('input').element as HTMLInputElement
    expect(getComputedStyle(input).display === 'none' || input.classList.contains('native')).toBe(true)
    expect(w.text()).toContain('选择文件')
    expect(w.find('[data-test="file-chosen"]').text()).toBe('未选择文件')
    let opened = false
    input.click = () => { opened = true }
    await w.find('button').trigger('click')
    expect(opened).toBe(true)
    await w.setProps({ modelValue: new File(['a'], '签到表.pdf') })
    expect(w.find('[data-test="file-chosen"]').text()).toBe('签到表.pdf')
    const many = mount(FilePick, { props: { modelValue: [new File(['a'], 'a.jpg'), new File(['b'], 'b.png')] as File[] }, global: { plugins: [ElementPlus] } })
    expect(many.find('[data-test="file-chosen"]').text()).toBe('a.jpg、b.png')
  })

  it('empties the field when the model is emptied (a form opened afresh)', async () => {
    const w = mount(FilePick, { props: { modelValue: new File(['a'], 'a.pdf') as File | null } })
    const input = w.find('input').element as HTMLInputElement
    let cleared = false
    Object.defineProperty(input, 'value', { set: (v: string) => { cleared = v === '' }, get: () => '', configurable: true })
    await w.setProps({ modelValue: null })
    expect(cleared).toBe(true)
  })
})
