// The page's styles. Colours come from the host's Chakra tokens (CSS variables), so light and dark
// follow Airflow's own switch; the fallbacks are for a host without them.
export const CSS = `
.bfp { color: var(--chakra-colors-fg, #1a202c); font-size: 14px; line-height: 1.45; }
.bfp h1 { font-size: 22px; font-weight: 600; margin: 0 0 12px; }
.bfp h2 { font-size: 17px; font-weight: 600; margin: 18px 0 8px; }
.bfp h3 { font-size: 15px; font-weight: 600; margin: 12px 0 6px; }
.bfp a { color: var(--chakra-colors-blue-fg, #3182ce); text-decoration: underline; }
.bfp .muted { color: var(--chakra-colors-fg-muted, #718096); }
.bfp .row { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
.bfp .spread { display: flex; gap: 8px; align-items: center; justify-content: space-between; flex-wrap: wrap; }
.bfp .card { border: 1px solid var(--chakra-colors-border, #e2e8f0); border-radius: 6px; padding: 12px; margin: 8px 0;
  background: var(--chakra-colors-bg-panel, transparent); }
.bfp button { font: inherit; border: 1px solid var(--chakra-colors-border, #cbd5e0); border-radius: 6px;
  padding: 4px 12px; background: var(--chakra-colors-bg-subtle, #f7fafc); color: inherit; cursor: pointer; }
.bfp button:hover:not(:disabled) { background: var(--chakra-colors-bg-muted, #edf2f7); }
.bfp button:disabled { opacity: 0.45; cursor: not-allowed; }
.bfp button.primary { background: var(--chakra-colors-blue-solid, #3182ce); border-color: transparent; color: #fff; }
.bfp button.danger { border-color: #e53e3e; color: #e53e3e; }
.bfp button:focus-visible, .bfp a:focus-visible, .bfp input:focus-visible, .bfp select:focus-visible,
.bfp textarea:focus-visible, .bfp .cell:focus-visible { outline: 2px solid #3182ce; outline-offset: 1px; }
.bfp input, .bfp select, .bfp textarea { font: inherit; color: inherit; background: var(--chakra-colors-bg, #fff);
  border: 1px solid var(--chakra-colors-border, #cbd5e0); border-radius: 6px; padding: 4px 8px; }
.bfp textarea { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; width: 100%; }
.bfp label.field { display: flex; flex-direction: column; gap: 2px; min-width: 160px; }
.bfp label.field > span:first-child { font-weight: 500; font-size: 13px; }
.bfp label.check { display: inline-flex; gap: 6px; align-items: center; }
.bfp .field-error { color: #e53e3e; font-size: 12px; }
.bfp .invalid { border-color: #e53e3e !important; }
.bfp table { border-collapse: collapse; width: 100%; }
.bfp th, .bfp td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--chakra-colors-border, #e2e8f0);
  vertical-align: top; }
.bfp th { font-weight: 600; font-size: 13px; }
.bfp .badge { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff; font-size: 12px;
  font-weight: 600; white-space: nowrap; }
.bfp .bar { display: flex; height: 10px; border-radius: 5px; overflow: hidden; min-width: 120px;
  background: var(--chakra-colors-bg-muted, #edf2f7); }
.bfp .bar > div { height: 100%; }
.bfp .cal-row { display: flex; gap: 8px; align-items: flex-start; margin: 6px 0; }
.bfp .cal-dag { width: 160px; flex: none; font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.bfp .cal-cells { display: flex; flex-wrap: wrap; gap: 2px; }
.bfp .cal-hours { display: grid; grid-template-columns: 90px repeat(24, 12px); gap: 2px; font-size: 11px; }
.bfp .cell { width: 12px; height: 12px; border-radius: 2px; border: none; padding: 0; cursor: pointer; }
.bfp .cell.month { width: 28px; }
.bfp .cal-legend { display: flex; gap: 10px; flex-wrap: wrap; font-size: 12px; margin-top: 4px; }
.bfp .cal-legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; }
.bfp .panel { position: fixed; top: 0; right: 0; bottom: 0; width: min(640px, 100vw); overflow: auto; z-index: 1400;
  background: var(--chakra-colors-bg, #fff); border-left: 1px solid var(--chakra-colors-border, #e2e8f0);
  box-shadow: -4px 0 16px rgba(0,0,0,0.2); padding: 16px; }
.bfp pre { white-space: pre-wrap; word-break: break-word; font-size: 12px; margin: 4px 0;
  background: var(--chakra-colors-bg-subtle, #f7fafc); border-radius: 4px; padding: 8px; max-height: 320px; overflow: auto; }
.bfp .grid2 { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 10px 16px; }
.bfp .picker { display: flex; flex-wrap: wrap; gap: 4px 12px; max-height: 140px; overflow: auto; padding: 4px;
  border: 1px solid var(--chakra-colors-border, #e2e8f0); border-radius: 6px; }
.bfp .tabs { display: flex; gap: 4px; margin-bottom: 8px; }
.bfp .tabs button[aria-selected="true"] { background: var(--chakra-colors-blue-solid, #3182ce); color: #fff; }
.bfp .alert { border-left: 4px solid #e53e3e; padding: 8px 12px; margin: 8px 0; background: rgba(229,62,62,0.08); }
.bfp .warn { border-left: 4px solid #d69e2e; padding: 6px 12px; margin: 4px 0; background: rgba(214,158,46,0.1); }
.bfp .split { display: grid; grid-template-columns: minmax(0, 3fr) minmax(340px, 2fr); gap: 16px; align-items: start; }
@media (max-width: 1100px) { .bfp .split { grid-template-columns: minmax(0, 1fr); } }
.bfp .sticky { position: sticky; top: 8px; max-height: calc(100vh - 16px); overflow: auto; }
.bfp .stat { display: flex; flex-direction: column; min-width: 110px; }
.bfp .stat b { font-size: 20px; }
`;
