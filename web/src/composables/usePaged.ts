import { reactive, ref, shallowRef } from 'vue'
import { ElMessage } from 'element-plus'
import { ApiError } from '../api/client'

/** A list reply of the platform: `{data: [...], total}`. */
export interface Page<T> {
  data: T[]
  total: number
}

/** A paged list as a reactive object (`list.rows`, `list.reload(1)`), shown by PagedTable. */
export interface Paged<T> {
  rows: T[]
  total: number
  page: number
  pageSize: number
  loading: boolean
  reload: (page?: number) => Promise<void>
}

/** A paged list: 10 per page as in the manual, loading state, API errors shown in Chinese. */
export function usePaged<T>(load: (page: number, pageSize: number) => Promise<Page<T>>, pageSize = 10): Paged<T> {
  const rows = shallowRef<T[]>([])
  const total = ref(0)
  const page = ref(1)
  const loading = ref(false)
  async function reload(p = page.value) {
    page.value = p
    loading.value = true
    try {
      const reply = await load(p, pageSize)
      rows.value = reply.data
      total.value = reply.total
    } catch (e) {
      rows.value = []
      total.value = 0
      ElMessage.error(e instanceof ApiError ? e.message : String(e))
    } finally {
      loading.value = false
    }
  }
  return reactive({ rows, total, page, pageSize, loading, reload }) as Paged<T>
}

/** The message of an error for the user. */
export function messageOf(e: unknown): string {
  return e instanceof ApiError ? e.message : '操作失败，请稍后再试'
}
