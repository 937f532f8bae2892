package org.outlierlab.jobs.figures;

import java.util.List;
import java.util.Locale;

/**
 * The figures {@code bin/oflab figures} draws, each declared once: its name (the file's), title, axes, the views it
 * reads and the query that gives its points. A query returns rows (panel, series, x, y), ordered: one panel per
 * run (or per protocol), one line or set of markers per series, every panel on the same axes; on a log axis the
 * points at or below 0 are left out (and counted). {@code RUNS} in a query is the run filter ({@code figures.runs}).
 */
enum Figure {
  KURTOSIS("Kurtosis of the neurons' RMS (Eq 1), residual stream entering each block (paper Fig 2, 7, 8)",
      "training step", "kurtosis (log scale)", Kind.LINE, true, List.of("layer_metrics"),
      metricByLayer("kurtosis", "resid_attn_in")),
  MAX_MEDIAN_RATIO("Max-median ratio (Eq 2, mean over tokens), residual stream entering each block (paper Fig 10)",
      "training step", "max-median ratio (log scale)", Kind.LINE, true, List.of("layer_metrics"),
      metricByLayer("mmr_mean", "resid_attn_in")),
  ACTIVATION_RMS("Activation RMS, residual stream entering each block (paper Fig 15)", "training step",
      "activation RMS (log scale)", Kind.LINE, true, List.of("layer_metrics"), metricByLayer("act_rms", "resid_attn_in")),
  SIGNAL_PROPAGATION("Signal propagation: RMS input-wise similarity (Eq 4), residual stream entering each block "
      + "(paper Fig 5)", "training step", "signal propagation", Kind.LINE, false, List.of("layer_metrics"),
      metricByLayer("signal_prop_rms", "resid_attn_in")),
  KURTOSIS_VS_SIGNAL_PROPAGATION("Kurtosis against signal propagation, every snapshot step (paper Fig 6)",
      "signal propagation (Eq 4)", "kurtosis (log scale)", Kind.SCATTER, true, List.of("layer_metrics"), """
      SELECT k.run_id AS panel, concat('layer ', k.layer) AS series, s.value AS x, k.value AS y
      FROM layer_metrics k JOIN layer_metrics s ON s.run_id = k.run_id AND s.step = k.step AND s.layer = k.layer
        AND s.site = k.site AND s.metric = 'signal_prop_rms'
      WHERE k.metric = 'kurtosis' AND k.site = 'resid_attn_in' AND k.run_id IN (RUNS)
      ORDER BY panel, k.layer, k.step"""),
  LOSS("Training and validation loss", "training step", "cross-entropy (nats per token)", Kind.LINE, false,
      List.of("train_log"), """
      SELECT run_id AS panel, 'train' AS series, step AS x, loss AS y FROM train_log WHERE run_id IN (RUNS)
      UNION ALL
      SELECT run_id, 'validation', step, val_loss FROM train_log WHERE val_loss IS NOT NULL AND run_id IN (RUNS)
      ORDER BY panel, series, x"""),
  KURTOSIS_UPDATE("App D: cumulative kurtosis-update terms, residual stream entering the last block (paper Fig 41)",
      "training step", "cumulative term", Kind.LINE, false, List.of("layer_metrics"), """
      SELECT m.run_id AS panel, m.metric AS series, m.step AS x, m.value AS y FROM layer_metrics m
      JOIN (SELECT run_id, max(layer) AS layer FROM layer_metrics WHERE site = 'resid_attn_in' GROUP BY run_id) l
        ON l.run_id = m.run_id AND l.layer = m.layer
      WHERE m.site = 'resid_attn_in' AND m.metric IN ('u2_1_cum', 'u2_2_cum', 'u4_1_cum', 'u4_2_cum', 'u4_3_cum',
        'u4_4_cum') AND m.run_id IN (RUNS)
      ORDER BY panel, series, x"""),
  QUANT_DELTA_VS_KURTOSIS("What the outliers cost: quantised perplexity increase against layer-averaged kurtosis (each"
      + " checkpoint, with its last snapshot at or before it)",
      "layer-averaged kurtosis of the residual stream",
      "q_ppl - fp_ppl (log scale)", Kind.SCATTER, true, List.of("quant_eval", "layer_metrics"), """
      WITH k AS (SELECT run_id, step, avg(value) AS kurtosis FROM layer_metrics
                 WHERE metric = 'kurtosis' AND site = 'resid_attn_in' GROUP BY run_id, step),
           at AS (SELECT q.run_id, q.step, max(k.step) AS snapshot FROM quant_eval q
                  JOIN k ON k.run_id = q.run_id AND k.step <= q.step GROUP BY q.run_id, q.step)
      SELECT q.protocol AS panel, q.run_id AS series, k.kurtosis AS x, q.delta_ppl AS y
      FROM quant_eval q JOIN at USING (run_id, step) JOIN k ON k.run_id = q.run_id AND k.step = at.snapshot
      WHERE q.run_id IN (RUNS)
      ORDER BY panel, series"""),
  QUANT_ERROR_VS_KURTOSIS("Per-layer quantisation error of the residual stream against its kurtosis",
      "kurtosis of the residual stream entering the layer", "SQNR (dB)", Kind.SCATTER, false,
      List.of("quant_error", "layer_metrics"), """
      WITH k AS (SELECT run_id, step, layer, value AS kurtosis FROM layer_metrics
                 WHERE metric = 'kurtosis' AND site = 'resid_attn_in'),
           at AS (SELECT e.run_id, e.step, max(k.step) AS snapshot FROM (SELECT DISTINCT run_id, step FROM quant_error) e
                  JOIN k ON k.run_id = e.run_id AND k.step <= e.step GROUP BY e.run_id, e.step)
      SELECT e.protocol AS panel, e.run_id AS series, k.kurtosis AS x, e.sqnr_db AS y
      FROM quant_error e JOIN at USING (run_id, step)
      JOIN k ON k.run_id = e.run_id AND k.step = at.snapshot AND k.layer = e.layer
      WHERE e.point = 'resid_attn_in' AND e.sqnr_db IS NOT NULL AND e.run_id IN (RUNS)
      ORDER BY panel, series, x""");

  /** Lines join a series' points in order; markers leave them apart. */
  enum Kind {
    LINE,
    SCATTER
  }

  final String title;
  final String xLabel;
  final String yLabel;
  final Kind kind;
  final boolean logY;
  final List<String> views;
  final String query;

  Figure(String title, String xLabel, String yLabel, Kind kind, boolean logY, List<String> views, String query) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
    this.kind = kind;
    this.logY = logY;
    this.views = views;
    this.query = query;
  }

  /** The name on the command line and of the files: kurtosis, max-median-ratio, …. */
  String fileName() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The query with the run filter: every run ({@code x IN (RUNS)} becomes TRUE), or the runs given. */
  String query(List<String> runs) {
    if (runs.isEmpty()) {
      return query.replaceAll("[\\w.]+ IN \\(RUNS\\)", "TRUE");
    }
    return query.replace("RUNS", String.join(", ", runs.stream().map(r -> "'" + r.replace("'", "''") + "'").toList()));
  }

  /** One metric against step, a line per layer, a panel per run. */
  private static String metricByLayer(String metric, String site) {
    return "SELECT run_id AS panel, concat('layer ', layer) AS series, step AS x, value AS y FROM layer_metrics"
        + " WHERE metric = '" + metric + "' AND site = '" + site + "' AND run_id IN (RUNS) ORDER BY panel, layer, step";
  }
}
