import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus from 'element-plus'
import ApprovalChain from './ApprovalChain.vue'
import type { Schema } from '../api/client'

type ChainNode = Schema<'ChainNode'>

const chain = (states: ChainNode['status'][]): ChainNode[] =>
  ['gc_labour_officer', 'gc_project_manager', 'chief_supervisor'].map((node, i) => ({
    node, label: ['总包劳务员', '总包项目经理', '总监理工程师/总监理工程师代表'][i], status: states[i],
  }))

const history = [
  { node: 'gc_labour_officer', label: '总包劳务员', approve: true, comment: '情况属实', actor_name: '李海军', decided_at: '2026-11-02T01:30:00+00:00' },
]

function make(props: Record<string, unknown>) {
  return mount(ApprovalChain, { props: { history: [], ...props } as never, global: { plugins: [ElementPlus] } })
}

describe('ApprovalChain (考勤补录)', () => {
  it("shows each node's state and the decision with its comment in local time", () => {
    const w = make({ chain: chain(['approved', 'current', 'waiting']), history })
    const steps = w.findAll('.el-step')
    expect(steps).toHaveLength(3)
    expect(steps[0].find('.node').attributes('data-status')).toBe('approved')
    expect(steps[0].find('.node').attributes('data-node')).toBe('gc_labour_officer')
    expect(steps[0].find('.el-step__head').classes()).toContain('is-success')
    expect(steps[0].text()).toContain('已通过 · 李海军 · 2026-11-02 09:30:00 · 情况属实')
    expect(steps[1].find('.el-step__head').classes()).toContain('is-process')
    expect(steps[1].text()).toContain('审批中')
    expect(steps[2].text()).toContain('待审批')
  })

  it('a rejected node is shown as an error, and the nodes after it are not waiting', () => {
    const w = make({ chain: chain(['approved', 'rejected', 'waiting']) })
    const steps = w.findAll('.el-step')
    expect(steps[1].find('.el-step__head').classes()).toContain('is-error')
    expect(steps[2].text()).toContain('无需审批')
    expect(steps[2].text()).not.toContain('待审批')
    expect(make({ chain: chain(['rejected', 'waiting', 'waiting']) }).findAll('.el-step')[1].text()).toContain('无需审批')
  })

  it('only the caller\'s node gets the buttons; rejecting needs a comment', async () => {
    const calls: [boolean, string][] = []
    const submit = async (approve: boolean, comment: string) => { calls.push([approve, comment]) }
    expect(make({ chain: chain(['current', 'waiting', 'waiting']) }).find('[data-test="approve"]').exists()).toBe(false)
    const w = make({ chain: chain(['current', 'waiting', 'waiting']), canDecide: true, submit })
    await w.find('[data-test="reject"]').trigger('click')
    expect(calls).toEqual([])
    expect(w.text()).toContain('驳回时请填写审批意见')
    await w.find('textarea').setValue('  时间不符  ')
    await w.find('[data-test="reject"]').trigger('click')
    await new Promise((r) => setTimeout(r, 0))
    expect(calls).toEqual([[false, '时间不符']])
    await w.find('[data-test="approve"]').trigger('click')
    await new Promise((r) => setTimeout(r, 0))
    expect(calls[1]).toEqual([true, ''])
  })

  it('an API refusal is shown under the buttons', async () => {
    const submit = async () => { throw new Error('您不是当前审批节点') }
    const w = make({ chain: chain(['current', 'waiting', 'waiting']), canDecide: true, submit })
    await w.find('[data-test="approve"]').trigger('click')
    await new Promise((r) => setTimeout(r, 0))
    expect(w.find('.field-error').text()).toBe('您不是当前审批节点')
  })
})
