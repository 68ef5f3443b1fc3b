import { reactive, ref, shallowRef } from 'vue'
import { ElMessage } from 'element-plus'
import { messageOf } from './usePaged'

/** One record in a drawer or dialog (see useDetail). */
export interface Detail<T> {
  open: boolean
  loading: boolean
  record: T | null
  show: (load: () => Promise<T>) => Promise<void>
}

/**
 * One record shown in a drawer or dialog, as a reactive object: `show(load)` fetches it and opens (`open`); with
 * `openFirst` it opens at once, empty and `loading` until the record is there. An API error is
 * shown in Chinese (the drawer stays shut unless `openFirst`).
 */
export function useDetail<T>(openFirst = false): Detail<T> {
  const open = ref(false)
  const loading = ref(false)
  const record = shallowRef<T | null>(null)
  async function show(load: () => Promise<T>) {
    if (openFirst) {
      record.value = null
      open.value = true
    }
    loading.value = true
    try {
      record.value = await load()
      open.value = true
    } catch (e) {
      ElMessage.error(messageOf(e))
    } finally {
      loading.value = false
    }
  }
  return reactive({ open, loading, record, show }) as Detail<T>
}
