// Builds src/main.tsx into dist/main.umd.cjs: a UMD bundle that sets globalThis.AirflowPlugin to the
// page's component. Airflow's UI provides React and its JSX runtime as globals, so they stay out.
import react from "@vitejs/plugin-react-swc";
import { resolve } from "node:path";
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    emptyOutDir: true,
    lib: {
      entry: resolve(import.meta.dirname, "src/main.tsx"),
      fileName: () => "main.umd.cjs",
      formats: ["umd"],
      name: "AirflowPlugin",
    },
    rollupOptions: {
      external: ["react", "react/jsx-runtime"],
      output: { globals: { react: "React", "react/jsx-runtime": "ReactJSXRuntime" } },
    },
    sourcemap: false,
  },
  define: { "process.env.NODE_ENV": JSON.stringify("production") },
  plugins: [react()],
});
