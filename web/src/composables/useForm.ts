import { reactive, ref } from 'vue'
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

/** A form in a FormDialog (see useDialogForm). */
export interface DialogForm<F> {
  open: boolean
  saving: boolean
  form: F
  errors: Record<string, string>
  clear: () => void
  show: (e: unknown) => void
  start: (values?: Partial<F>) => void
  save: (step: () => Promise<unknown>, done: string) => Promise<boolean>
}

/**
 * A form in a FormDialog, as a reactive object: `open` and `saving` for the dialog, the form's values (`blank()` when it
 * opens, then the given ones), the API's errors by field (as useFieldErrors). `save(step, done)`
 * submits it: on success the message `done`, the dialog closed, and true.
 */
export function useDialogForm<F extends object>(blank: () => F, fields: string[], codeFields: Record<string, string> = {}): DialogForm<F> {
  const open = ref(false)
  const saving = ref(false)
  const form = reactive(blank()) as F
  const { errors, clear, show, submit } = useFieldErrors(fields, codeFields)
  function start(values: Partial<F> = {}) {
    clear()
    Object.assign(form, blank(), values)
    open.value = true
  }
  async function save(step: () => Promise<unknown>, done: string): Promise<boolean> {
    if (!(await submit(saving, step))) return false
    ElMessage.success(done)
    open.value = false
    return true
  }
  return reactive({ open, saving, form, errors, clear, show, start, save }) as DialogForm<F>
}
