import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { defineComponent } from 'vue'
import ElementPlus from 'element-plus'
import PersonColumns from './PersonColumns.vue'

const rows = [{ seq: 1, name: '王建国', gender: '男', id_number: '630102********1234', phone: '138****0000', team: '钢筋班' }]

function table(noGender: boolean) {
  const Host = defineComponent({
    components: { PersonColumns },
    setup: () => ({ rows, noGender }),
    template: `<el-table :data="rows">
      <el-table-column prop="seq" label="序号" />
      <PersonColumns :no-gender="noGender" />
      <el-table-column prop="team" label="所属班组" />
    </el-table>`,
  })
  return mount(Host, { global: { plugins: [ElementPlus] }, attachTo: document.body })
}

async function headers(noGender: boolean) {
  const w = table(noGender)
  await new Promise((r) => setTimeout(r, 0))
  await w.vm.$nextTick()
  const out = { head: w.findAll('.el-table__header th').map((th) => th.text()), cells: w.findAll('.el-table__body td').map((td) => td.text()) }
  w.unmount()
  return out
}

describe('PersonColumns (a person in a list of people)', () => {
  it('姓名, 性别, 身份证号, 手机号 in place among the other columns', async () => {
    const { head, cells } = await headers(false)
    expect(head).toEqual(['序号', '姓名', '性别', '身份证号', '手机号', '所属班组'])
    expect(cells).toEqual(['1', '王建国', '男', '630102********1234', '138****0000', '钢筋班'])
  })

  it('without 性别 when noGender', async () => {
    const { head } = await headers(true)
    expect(head).toEqual(['序号', '姓名', '身份证号', '手机号', '所属班组'])
  })
})
