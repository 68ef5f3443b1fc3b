/// <reference types="vitest" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// The bundle is served by the platform itself at / (web/dist); the manual's users are on Windows
// with Chrome or 360's Chromium mode, so the output targets Chrome 80.
export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: {
    target: ['chrome80'],
    outDir: 'dist',
    assetsDir: 'assets',
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      output: {
        manualChunks: {
          'element-plus': ['element-plus', '@element-plus/icons-vue'],
          echarts: ['echarts/core', 'echarts/charts', 'echarts/components', 'echarts/renderers'],
        },
      },
    },
  },
  server: {
    // `npm run dev` against a platform on :8000 (make run)
    proxy: {
      '/admin': { target: 'http://127.0.0.1:8000', ws: true },
      '/miniapp': 'http://127.0.0.1:8000',
      '/_dev': 'http://127.0.0.1:8000',
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.spec.ts'],
  },
})
