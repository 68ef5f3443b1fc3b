import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import FormDialog from './FormDialog.vue'

describe('FormDialog (a form in a dialog)', () => {
  it('its fields in one form with the labels as wide as asked; 取消 closes, 确认 submits', async () => {
    const w = mount(FormDialog, {
      props: { modelValue: true, title: '新增班组', labelWidth: '90px', 'onUpdate:modelValue': (v: boolean) => w.setProps({ modelValue: v }) },
      slots: { default: '<el-form-item label="班组名称"><input class="name" /></el-form-item>' },
      global: { plugins: [ElementPlus] },
      attachTo: document.body,
    })
    await new Promise((r) => setTimeout(r, 0))
    const form = document.querySelector('.el-dialog form.el-form')!
    expect(form.querySelector('input.name')).not.toBeNull()
    expect((form.querySelector('.el-form-item__label') as HTMLElement).style.width).toBe('90px')
    const buttons = Array.from(document.querySelectorAll('.el-dialog__footer button')) as HTMLElement[]
    expect(buttons.map((b) => b.textContent?.trim())).toEqual(['取消', '确认'])
    buttons[1].click()
    expect(w.emitted('submit')).toHaveLength(1)
    buttons[0].click()
    expect(w.emitted('update:modelValue')![0]).toEqual([false])
    w.unmount()
  })
})
