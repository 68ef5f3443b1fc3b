import { describe, expect, it, vi } from 'vitest'
import { mount } from '@vue/test-utils'
import ElementPlus, { ElMessage, ElMessageBox } from 'element-plus'
import DecisionBox from './DecisionBox.vue'
import { ApiError } from '../api/client'

const tick = () => new Promise((r) => setTimeout(r, 0))

function box(props: Record<string, unknown>) {
  return mount(DecisionBox, { props: { required: '驳回时请填写审批意见', ...props } as never, attrs: { 'data-test': 'comment' }, global: { plugins: [ElementPlus] } })
}

describe('DecisionBox (an approver\'s decision)', () => {
  it('rejecting needs a comment; the comment goes trimmed, then is emptied', async () => {
    const calls: [boolean, string][] = []
    const w = box({ submit: async (a: boolean, c: string) => { calls.push([a, c]) }, approveText: '审核通过', rejectText: '审核不通过' })
    expect(w.find('[data-test="reject"]').text()).toBe('审核不通过')
    expect(w.find('[data-test="approve"]').text()).toBe('审核通过')
    await w.find('[data-test="reject"]').trigger('click')
    expect(calls).toEqual([])
    expect(w.find('.field-error').text()).toBe('驳回时请填写审批意见')
    await w.find('textarea[data-test="comment"]').setValue('  时间不符  ')
    await w.find('[data-test="reject"]').trigger('click')
    await tick()
    expect(calls).toEqual([[false, '时间不符']])
    expect((w.find('textarea').element as HTMLTextAreaElement).value).toBe('')
    await w.find('[data-test="approve"]').trigger('click')
    await tick()
    expect(calls[1]).toEqual([true, ''])
  })

  it('asks first when told to; cancelled, nothing is sent', async () => {
    const calls: boolean[] = []
    const confirm = vi.spyOn(ElMessageBox, 'confirm').mockRejectedValueOnce('cancel').mockResolvedValueOnce('confirm' as never)
    const w = box({ submit: async (a: boolean) => { calls.push(a) }, confirm: (a: boolean) => ({ message: a ? '确定审核通过吗？' : '确定审核不通过吗？', title: '审核' }) })
    await w.find('[data-test="approve"]').trigger('click')
    await tick()
    expect(confirm).toHaveBeenCalledWith('确定审核通过吗？', '审核', expect.objectContaining({ confirmButtonText: '确定', cancelButtonText: '取消' }))
    expect(calls).toEqual([])
    await w.find('[data-test="approve"]').trigger('click')
    await tick()
    expect(calls).toEqual([true])
    confirm.mockRestore()
  })

  it('a refusal is shown under the comment; with `field`, only that field\'s, any other as a message', async () => {
    const w = box({ submit: async () => { throw new Error('您不是当前审批节点') } })
    await w.find('[data-test="approve"]').trigger('click')
    await tick()
    expect(w.find('.field-error').text()).toBe('您不是当前审批节点')

    const error = vi.spyOn(ElMessage, 'error').mockImplementation(() => ({ close: () => undefined }) as never)
    let refusal = new ApiError(422, { code: 'required', message: '请填写审核意见', field: 'notes' })
    const v = box({ field: 'notes', submit: async () => { throw refusal } })
    await v.find('[data-test="approve"]').trigger('click')
    await tick()
    expect(v.find('.field-error').text()).toBe('请填写审核意见')
    refusal = new ApiError(409, { code: 'already_decided', message: '该申请已审核' })
    await v.find('[data-test="approve"]').trigger('click')
    await tick()
    expect(v.find('.field-error').exists()).toBe(false)
    expect(error).toHaveBeenCalledWith('该申请已审核')
    error.mockRestore()
  })
})
