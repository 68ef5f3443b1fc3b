import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import ToolBar from './ToolBar.vue'

function bar(props: Record<string, unknown>) {
  return mount(ToolBar, {
    props,
    slots: { default: '<input class="filter" />', actions: '<button class="action">导出</button>' },
    global: { plugins: [ElementPlus] },
  })
}

describe('ToolBar (the bar above a list)', () => {
  it('filters, 重置, 查询, then the actions on the right', async () => {
    const calls: string[] = []
    const w = bar({ search: () => calls.push('search'), reset: () => calls.push('reset') })
    const kids = Array.from(w.find('.toolbar').element.children).map((e) => e.className || e.textContent)
    expect(kids[0]).toBe('filter')
    expect(w.findAll('button').map((b) => b.text())).toEqual(['重置', '查询', '导出'])
    expect(kids.indexOf('grow')).toBeLessThan(kids.indexOf('action'))
    expect(kids.indexOf('grow')).toBeGreaterThan(0)
    await w.findAll('button')[0].trigger('click')
    await w.findAll('button')[1].trigger('click')
    expect(calls).toEqual(['reset', 'search'])
  })

  it('no 查询 / 重置 without their handlers; the search button can be named', () => {
    expect(bar({}).findAll('button').map((b) => b.text())).toEqual(['导出'])
    expect(bar({ search: () => undefined, searchText: '搜索' }).findAll('button').map((b) => b.text())).toEqual(['搜索', '导出'])
  })
})
