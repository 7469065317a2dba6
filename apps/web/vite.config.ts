import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// `npm run dev -w apps/web` proxies the API to a running platform (IM_GATEWAY, default :8080);
// the built app (dist/) is served by the gateway itself (WEB_CLIENT_DIR), same origin as the API.
export default defineConfig({
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: true },
  server: {
    proxy: { '/v1': { target: process.env.IM_GATEWAY ?? 'http://127.0.0.1:8080', ws: true } },
  },
});
