package org.outlierlab.metrics;

/**
 * What a {@link Statistic} is computed from: one of {@link LayerStats}' accumulator groups, allocated only when a
 * selected statistic needs it, or what the metrics job needs of a run for the statistics it computes beside them.
 */
public enum Requirement {
  NEURON_MOMENTS("neuron moments", true, "per-neuron sums and sums of squares, Σ‖x‖² and Σ‖x‖⁴: O(d)"),
  WIDTH_CENTRED_MOMENTS("width-centred moments", true,
      "the per-neuron sums of squares, the sum of the rows' means and Σ‖x_c‖⁴ of the width-centred rows: O(d)"),
  MAX_MEDIAN_RATIOS("max-median ratios", true, "each row's max-median ratio, kept for their exact median: O(N)"),
  WIDTH_CENTRED_MAX_MEDIAN_RATIOS("width-centred max-median ratios", true,
      "each width-centred row's max-median ratio: O(N)"),
  FEATURE_GRAM("feature Gram", true, "the d×d feature Gram Σ_i x_i x_iᵀ: O(d²) memory, O(N·d²) time"),
  SEQUENCE_BOUNDARIES("sequence boundaries", false,
      "pairs of tokens of the same probe sequence: the run's model.seq_len (in its config.conf); O(N·T·d)"),
  FIXED_PROBES("fixed probes", false,
      "each token's rows at consecutive steps: runs trained with train.probe_inputs = fixed, snapshots one step apart"),
  ATTENTION_SITE("attention site", false, "the attn_entropy snapshot site");

  private final String label;
  private final boolean layerStats;
  private final String description;

  Requirement(String label, boolean layerStats, String description) {
    this.label = label;
    this.layerStats = layerStats;
    this.description = description;
  }

  /** A short name, for tables and --help. */
  public String label() {
    return label;
  }

  /** Whether it is one of LayerStats' accumulator groups (else one of the metrics job's stages). */
  public boolean layerStats() {
    return layerStats;
  }

  public String description() {
    return description;
  }
}
