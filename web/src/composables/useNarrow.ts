import { onBeforeUnmount, ref } from 'vue'

/** Below this width (Element Plus's `xs`) the console is on a phone: one column, the menu in a drawer. */
export const NARROW_QUERY = '(max-width: 767px)'

/** Whether the window is phone-sized now; follows the window as it is resized or turned. */
export function useNarrow() {
  const media = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia(NARROW_QUERY) : null
  const narrow = ref(!!media?.matches)
  const follow = (e: MediaQueryListEvent) => (narrow.value = e.matches)
  media?.addEventListener('change', follow)
  onBeforeUnmount(() => media?.removeEventListener('change', follow))
  return narrow
}
