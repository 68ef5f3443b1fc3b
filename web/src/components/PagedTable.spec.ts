import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { defineComponent, reactive } from 'vue'
import ElementPlus from 'element-plus'
import PagedTable from './PagedTable.vue'

function page(numbered: boolean) {
  const list = reactive({ rows: [{ name: '钢筋班' }, { name: '木工班' }], total: 12, page: 2, pageSize: 10, loading: false, reload: async () => undefined })
  const Host = defineComponent({
    components: { PagedTable },
    setup: () => ({ list, numbered }),
    template: `<PagedTable :list="list" :numbered="numbered"><el-table-column prop="name" label="班组名称" /></PagedTable>`,
  })
  return mount(Host, { global: { plugins: [ElementPlus] }, attachTo: document.body })
}

async function shown(numbered: boolean) {
  const w = page(numbered)
  await new Promise((r) => setTimeout(r, 0))
  await w.vm.$nextTick()
  const out = {
    head: w.findAll('.el-table__header th').map((th) => th.text()),
    cells: w.findAll('.el-table__body td').map((td) => td.text()),
    pager: w.find('.pager-total').text(),
  }
  w.unmount()
  return out
}

describe('PagedTable (a list page\'s table)', () => {
  it('numbered: 序号 counted across the pages (page 2 starts at 11), the pager below', async () => {
    const { head, cells, pager } = await shown(true)
    expect(head).toEqual(['序号', '班组名称'])
    expect(cells).toEqual(['11', '钢筋班', '12', '木工班'])
    expect(pager).toBe('共 12 条 · 10 条/页')
  })

  it('without numbered only the given columns', async () => {
    const { head } = await shown(false)
    expect(head).toEqual(['班组名称'])
  })
})
