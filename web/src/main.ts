import { createApp } from 'vue'
import { createPinia } from 'pinia'
import ElementPlus from 'element-plus'
import zhCn from 'element-plus/es/locale/lang/zh-cn'
import 'element-plus/dist/index.css'
import './style.css'
import App from './App.vue'
import { router } from './router'
import { whenSignedOut } from './api/client'

const app = createApp(App)
app.use(createPinia())
app.use(router)
app.use(ElementPlus, { locale: zhCn })
whenSignedOut(() => {
  const here = router.currentRoute.value
  if (here.meta.public) return
  router.replace({ path: '/login', query: { next: here.fullPath } })
})
app.mount('#app')
