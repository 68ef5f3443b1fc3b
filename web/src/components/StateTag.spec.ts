import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import StateTag from './StateTag.vue'

describe('StateTag (a request\'s approval state)', () => {
  it.each([
    ['pending', '审核中', 'el-tag--warning'],
    ['approved', '审核通过', 'el-tag--success'],
    ['rejected', '已驳回', 'el-tag--danger'],
    ['withdrawn', '已撤回', 'el-tag--info'],
  ])('%s is shown as its label in its colour', (state, label, cls) => {
    const w = mount(StateTag, { props: { state, label }, global: { plugins: [ElementPlus] } })
    expect(w.text()).toBe(label)
    expect(w.find('.el-tag').classes()).toContain(cls)
  })
})
