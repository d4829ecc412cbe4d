/** One colour per status for drawings (chart, DAG), matching the badges in styles.css. */
export const statusColours: Record<string, string> = {
  completed: "#2e8b57",
  failed: "#c0392b",
  cancelled: "#8a93a0",
  running: "#2f6fd6",
  pending: "#d49a00",
};
