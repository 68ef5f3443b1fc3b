import { reactive } from 'vue'
import type { Ref } from 'vue'
import { ElMessage } from 'element-plus'
import { ApiError } from '../api/client'

/**
 * Errors of the API shown next to the named field (`el-form-item :error="errors.x"`); an error
 * without a field (or naming a field the form does not show) appears as a message. `codeFields`
 * names the field of an error code the API reports without one (e.g. device_exists → sn).
 */
export function useFieldErrors(fields: string[], codeFields: Record<string, string> = {}) {
  const errors = reactive<Record<string, string>>({})
  function clear() {
    for (const k of Object.keys(errors)) delete errors[k]
  }
  function show(e: unknown) {
    clear()
    const field = e instanceof ApiError ? e.field || codeFields[e.code] : undefined
    if (e instanceof ApiError && field && fields.includes(field)) {
      errors[field] = e.message
    } else {
      ElMessage.error(e instanceof ApiError ? e.message : '操作失败，请稍后再试')
    }
  }
  /** Submit the form: `saving` while it runs, its errors shown; true when it succeeded. */
  async function submit(saving: Ref<boolean>, step: () => Promise<unknown>): Promise<boolean> {
    saving.value = true
    try {
      await step()
      clear()
      return true
    } catch (e) {
      show(e)
      return false
    } finally {
      saving.value = false
    }
  }
  return { errors, clear, show, submit }
}
