import { describe, expect, it, vi } from 'vitest'
import { ElMessage } from 'element-plus'
import { useDialogForm } from './useForm'
import { useDetail } from './useDetail'
import { ApiError } from '../api/client'

describe('useDialogForm (a form in a dialog)', () => {
  it('start() opens it blank, then with the given values, errors cleared', () => {
    const d = useDialogForm(() => ({ id: 0, name: '', files: [] as File[] }), ['name'])
    d.form.name = '旧的'
    d.errors.name = '请填写'
    d.start({ id: 7 })
    expect(d.open).toBe(true)
    expect(d.form).toEqual({ id: 7, name: '', files: [] })
    expect(d.errors.name).toBeUndefined()
  })

  it('save(): saving while it runs; on success the message and the dialog closed', async () => {
    const ok = vi.spyOn(ElMessage, 'success').mockImplementation(() => ({ close: () => undefined }) as never)
    const d = useDialogForm(() => ({ name: '' }), ['name'])
    d.start()
    let seen = false
    expect(await d.save(async () => { seen = d.saving }, '已保存')).toBe(true)
    expect(seen).toBe(true)
    expect(d.saving).toBe(false)
    expect(d.open).toBe(false)
    expect(ok).toHaveBeenCalledWith('已保存')
    ok.mockRestore()
  })

  it('save(): a refusal naming a field stays open with the error beside the field', async () => {
    const d = useDialogForm(() => ({ name: '' }), ['name'])
    d.start()
    const saved = await d.save(async () => { throw new ApiError(422, { code: 'required', message: '请填写班组名称', field: 'name' }) }, '已保存')
    expect(saved).toBe(false)
    expect(d.open).toBe(true)
    expect(d.saving).toBe(false)
    expect(d.errors.name).toBe('请填写班组名称')
  })
})

describe('useDetail (one record in a drawer)', () => {
  it('opens once the record is there; a failure leaves it shut with the message', async () => {
    const error = vi.spyOn(ElMessage, 'error').mockImplementation(() => ({ close: () => undefined }) as never)
    const d = useDetail<{ id: number }>()
    await d.show(async () => { throw new ApiError(404, { code: 'not_found', message: '记录不存在' }) })
    expect(d.open).toBe(false)
    expect(error).toHaveBeenCalledWith('记录不存在')
    await d.show(async () => ({ id: 3 }))
    expect(d.open).toBe(true)
    expect(d.record).toEqual({ id: 3 })
    error.mockRestore()
  })

  it('openFirst: open and empty while loading', async () => {
    const d = useDetail<{ id: number }>(true)
    let during: [boolean, boolean, unknown] = [false, false, undefined]
    d.record = { id: 1 }
    await d.show(async () => { during = [d.open, d.loading, d.record]; return { id: 2 } })
    expect(during).toEqual([true, true, null])
    expect(d.loading).toBe(false)
    expect(d.record).toEqual({ id: 2 })
  })
})
