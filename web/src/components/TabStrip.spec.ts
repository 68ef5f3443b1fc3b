import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import TabStrip from './TabStrip.vue'

describe('TabStrip (the tabs over a list)', () => {
  it('one tab a choice in order, the chosen one active; picking another updates the model and says so', async () => {
    const w = mount(TabStrip, {
      props: { modelValue: 'queue', tabs: { all: '全部补录', queue: '待我审批', mine: '我发起的' } },
      global: { plugins: [ElementPlus] },
    })
    await w.vm.$nextTick()
    const tabs = w.findAll('.el-tabs__item')
    expect(tabs.map((t) => t.text())).toEqual(['全部补录', '待我审批', '我发起的'])
    expect(tabs[1].classes()).toContain('is-active')
    await tabs[2].trigger('click')
    await w.vm.$nextTick()
    expect(w.emitted('update:modelValue')![0]).toEqual(['mine'])
    expect(w.emitted('change')![0]).toEqual(['mine'])
  })
})
