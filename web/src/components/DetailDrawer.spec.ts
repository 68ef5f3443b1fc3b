import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { defineComponent } from 'vue'
import ElementPlus from 'element-plus'
import DetailDrawer from './DetailDrawer.vue'
import { useDetail } from '../composables/useDetail'

describe('DetailDrawer (one record in a drawer)', () => {
  it('opens loading, then shows the record through the slot', async () => {
    const detail = useDetail<{ name: string }>(true)
    const Host = defineComponent({
      components: { DetailDrawer: DetailDrawer as never },
      setup: () => ({ detail }),
      template: `<DetailDrawer :detail="detail" title="补录详情" size="640px" v-slot="{ record }"><p class="who">{{ record.name }}</p></DetailDrawer>`,
    })
    const w = mount(Host, { global: { plugins: [ElementPlus] }, attachTo: document.body })
    let release: (v: { name: string }) => void = () => undefined
    const shown = detail.show(() => new Promise((r) => { release = r }))
    await new Promise((r) => setTimeout(r, 0))
    expect(document.querySelector('.el-drawer__title')?.textContent).toBe('补录详情')
    expect(document.querySelector('.el-drawer .el-loading-mask')).not.toBeNull()
    expect(document.querySelector('.el-drawer .who')).toBeNull()
    release({ name: '王建国' })
    await shown
    await new Promise((r) => setTimeout(r, 0))
    expect(document.querySelector('.el-drawer .who')?.textContent).toBe('王建国')
    w.unmount()
  })
})
