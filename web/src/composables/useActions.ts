import type { Ref } from 'vue'
import { ElMessage, ElMessageBox } from 'element-plus'
import { messageOf } from './usePaged'

interface Confirm<R> {
  /** The question, naming what is affected: 确定删除【…】吗？ */
  message: string
  title: string
  confirmText?: string
  type?: 'warning' | 'info'
  /** Shown when the action succeeded. */
  success?: string | ((result: R) => string)
}

/**
 * A destructive or far-reaching action: asks first (确定 / 取消), then runs it; success and API
 * errors are shown in Chinese. Resolves true when the action ran and succeeded.
 */
export async function confirmThen<R>(ask: Confirm<R>, action: () => Promise<R>): Promise<boolean> {
  try {
    await ElMessageBox.confirm(ask.message, ask.title, {
      type: ask.type || 'warning',
      confirmButtonText: ask.confirmText || '确定',
      cancelButtonText: '取消',
    })
  } catch {
    return false
  }
  try {
    const result = await action()
    const text = typeof ask.success === 'function' ? ask.success(result) : ask.success
    if (text) ElMessage.success(text)
    return true
  } catch (e) {
    ElMessage.error(messageOf(e))
    return false
  }
}

/** Run a step with a busy flag (a button's :loading); an API error is shown in Chinese. */
export async function busy(flag: Ref<boolean>, step: () => Promise<unknown>): Promise<boolean> {
  flag.value = true
  try {
    await step()
    return true
  } catch (e) {
    ElMessage.error(messageOf(e))
    return false
  } finally {
    flag.value = false
  }
}
