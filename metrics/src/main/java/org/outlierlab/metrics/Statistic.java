package org.outlierlab.metrics;

import static org.outlierlab.metrics.Requirement.ATTENTION_SITE;
import static org.outlierlab.metrics.Requirement.FEATURE_GRAM;
import static org.outlierlab.metrics.Requirement.FIXED_PROBES;
import static org.outlierlab.metrics.Requirement.MAX_MEDIAN_RATIOS;
import static org.outlierlab.metrics.Requirement.NEURON_MOMENTS;
import static org.outlierlab.metrics.Requirement.SEQUENCE_BOUNDARIES;
import static org.outlierlab.metrics.Requirement.WIDTH_CENTRED_MAX_MEDIAN_RATIOS;
import static org.outlierlab.metrics.Requirement.WIDTH_CENTRED_MOMENTS;

import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Every statistic the metrics job writes to layer_metrics, declared once: its metric name, its formula and what it
 * is computed from. {@link LayerStats}, the metrics job, its --help and the README's table read this list; the
 * declaration order is the order LayerStats lists them in. The science behind them is SCIENCE.md §1.
 *
 * <p>Notation: X is the N token rows × d neurons of one (run, step, layer, site), x_i its row i, X_c the rows
 * centred across the width (x_c,i = x_i − mean_j(x_ij)·1, as LayerNorm and the released code centre each token),
 * r = sqrt(Σ_ij x_ij² / (N·d)) and r_c the same of X_c, Z = X / r and Z_c = X_c / r_c, G = ZZᵀ/d the input Gram,
 * F = Σ_i x_i x_iᵀ the feature Gram (F_c = P F P of X_c, P = I − 11ᵀ/d), and Eq1(a) = mean_j(a_j²) / mean_j(a_j)²
 * for a per-neuron vector a. Only kurtosis_released_code keeps the released code's + 1e-8 on r_c, so that it is
 * that logged value exactly. The other width-centred statistics are the exact counterparts of the uncentred ones:
 * the max-median ratios are ratios within a row and do not depend on any scale; act_rms, signal prop and
 * feat_corr_rms differ from the released code's values by a relative 1e-8/r_c, 2e-8/r_c and 2e-8/r_c, below
 * float32's resolution for r_c above about 1.
 */
public enum Statistic {
  KURTOSIS("kurtosis", "Eq 1 (SCIENCE.md §1.2), uncentred: Eq1(m) of the neurons' mean squares m_j = (1/N) Σ_i z_ij²;"
      + " 1 (all neurons equal) to d", NEURON_MOMENTS),
  KURTOSIS_RELEASED_CODE("kurtosis_released_code", "what the released code logs as kurtosis: the unbiased variance"
      + " (divisor d − 1) of m'_j = (1/N) Σ_i (x_c,ij / (r_c + 1e-8))²; about (kurtosis_width_centred − 1)·d/(d − 1),"
      + " the scale of the paper's plots", WIDTH_CENTRED_MOMENTS),
  KURTOSIS_NEURON_CENTRED("kurtosis_neuron_centred", "Eq1(v) of each neuron's variance over the tokens,"
      + " v_j = (1/N) Σ_i (x_ij − mean_i x_ij)² (SCIENCE.md §1.6, centre=neuron)", NEURON_MOMENTS),
  KURTOSIS_WIDTH_CENTRED("kurtosis_width_centred", "Eq1(m_c) of the width-centred rows, m_c,j = (1/N) Σ_i x_c,ij²"
      + " (SCIENCE.md §1.6, centre=width)", WIDTH_CENTRED_MOMENTS),
  MMR_MEAN("mmr_mean", "Eq 2 (SCIENCE.md §1.3): the mean over rows of max_j |x_ij| / median_j |x_ij| (the median the"
      + " lower middle value for even d, as torch's)", MAX_MEDIAN_RATIOS),
  MMR_MEDIAN("mmr_median", "the median (lower middle) over rows of the max-median ratio", MAX_MEDIAN_RATIOS),
  MMR_MAX("mmr_max", "the max over rows of the max-median ratio", MAX_MEDIAN_RATIOS),
  MMR_MEAN_WIDTH_CENTRED("mmr_mean_width_centred", "mmr_mean of the width-centred rows: the released code's"
      + " max_median_ratio", WIDTH_CENTRED_MAX_MEDIAN_RATIOS),
  MMR_MEDIAN_WIDTH_CENTRED("mmr_median_width_centred", "mmr_median of the width-centred rows",
      WIDTH_CENTRED_MAX_MEDIAN_RATIOS),
  MMR_MAX_WIDTH_CENTRED("mmr_max_width_centred", "mmr_max of the width-centred rows",
      WIDTH_CENTRED_MAX_MEDIAN_RATIOS),
  ACT_RMS("act_rms", "r, the RMS over all N·d entries of X (SCIENCE.md §1.5)", NEURON_MOMENTS),
  ACT_RMS_WIDTH_CENTRED("act_rms_width_centred", "r_c, the RMS of the width-centred rows (the released code's x_rms"
      + " is r_c + 1e-8)", WIDTH_CENTRED_MOMENTS),
  TOKENS("tokens", "N, the token rows aggregated"),
  SIGNAL_PROP_MEAN("signal_prop_mean", "the mean of G_ii' over ordered token pairs i ≠ i' of the probe batch"
      + " (SCIENCE.md §1.4), in O(N·d) as (‖Σ_i x_i‖² − Σ_i ‖x_i‖²) / (r²·d·N(N − 1))", NEURON_MOMENTS),
  SIGNAL_PROP_MEAN_WIDTH_CENTRED("signal_prop_mean_width_centred", "signal_prop_mean of Z_c, with"
      + " Σ_i x_c,i = Σ_i x_i − (Σ_i mean_j x_ij)·1: the released code's batch_corr_mean", NEURON_MOMENTS,
      WIDTH_CENTRED_MOMENTS),
  GRAM_DIAG_SQ("gram_diag_sq", "Σ_j (ZᵀZ)_jj², the diagonal part of ‖ZᵀZ‖²_F in Eq 5 (SCIENCE.md §1.4):"
      + " N²·d·kurtosis", NEURON_MOMENTS, FEATURE_GRAM),
  GRAM_OFFDIAG_SQ("gram_offdiag_sq", "Σ_{j≠k} (ZᵀZ)_jk², the off-diagonal part of ‖ZᵀZ‖²_F in Eq 5",
      NEURON_MOMENTS, FEATURE_GRAM),
  SIGNAL_PROP_RMS("signal_prop_rms", "sqrt(mean over i ≠ i' of G_ii'²), from ‖ZZᵀ‖²_F = ‖ZᵀZ‖²_F (Eq 4) less the"
      + " diagonal Σ_i ‖z_i‖⁴", NEURON_MOMENTS, FEATURE_GRAM),
  FEAT_CORR_RMS("feat_corr_rms", "sqrt(mean over j ≠ k of (ZᵀZ/N)_jk²), the RMS off-diagonal of the feature Gram",
      NEURON_MOMENTS, FEATURE_GRAM),
  SIGNAL_PROP_RMS_WIDTH_CENTRED("signal_prop_rms_width_centred", "signal_prop_rms of Z_c, from F_c and"
      + " Σ_i ‖x_c,i‖⁴: the released code's batch_corr_rms", WIDTH_CENTRED_MOMENTS, FEATURE_GRAM),
  FEAT_CORR_RMS_WIDTH_CENTRED("feat_corr_rms_width_centred", "feat_corr_rms of Z_c, from F_c: the released code's"
      + " feat_corr_rms", WIDTH_CENTRED_MOMENTS, FEATURE_GRAM),
  SIGNAL_PROP_MEAN_SEQ("signal_prop_mean_seq", "signal_prop_mean over pairs of tokens of the same probe sequence"
      + " only (SequencePairs), scaled by the layer's act_rms", SEQUENCE_BOUNDARIES),
  SIGNAL_PROP_RMS_SEQ("signal_prop_rms_seq", "signal_prop_rms over pairs of tokens of the same probe sequence"
      + " only, scaled by act_rms", SEQUENCE_BOUNDARIES),
  SIGNAL_PROP_MEAN_SEQ_WIDTH_CENTRED("signal_prop_mean_seq_width_centred", "signal_prop_mean_seq of the"
      + " width-centred rows, scaled by act_rms_width_centred", SEQUENCE_BOUNDARIES),
  SIGNAL_PROP_RMS_SEQ_WIDTH_CENTRED("signal_prop_rms_seq_width_centred", "signal_prop_rms_seq of the width-centred"
      + " rows, scaled by act_rms_width_centred", SEQUENCE_BOUNDARIES),
  ATTN_ENTROPY("attn_entropy", "attention entropy −Σ_k P log P, the mean over heads of the attn_entropy snapshot"
      + " site (SCIENCE.md §1.5); written with site attn", ATTENTION_SITE),
  U2_1("u2_1", "App D (SCIENCE.md §4), step t to t + 1: the order-η part of Δm₂, mean_j a_j with"
      + " a_j = (2/N) Σ_i x_ij Δx_ij", FIXED_PROBES),
  U2_2("u2_2", "the order-η² part of Δm₂ = u2_1 + u2_2: mean_j b_j with b_j = (1/N) Σ_i Δx_ij²", FIXED_PROBES),
  U4_1("u4_1", "the order-η part of Δm₄: mean_j 2·s_j²·a_j with s_j² = (1/N) Σ_i x_ij²", FIXED_PROBES),
  U4_2("u4_2", "the order-η² part of Δm₄: mean_j (2·s_j²·b_j + a_j²)", FIXED_PROBES),
  U4_3("u4_3", "the order-η³ part of Δm₄: mean_j 2·a_j·b_j", FIXED_PROBES),
  U4_4("u4_4", "the order-η⁴ part of Δm₄ = u4_1 + … + u4_4: mean_j b_j²", FIXED_PROBES),
  U2_1_CUM(U2_1),
  U2_2_CUM(U2_2),
  U4_1_CUM(U4_1),
  U4_2_CUM(U4_2),
  U4_3_CUM(U4_3),
  U4_4_CUM(U4_4);

  private final String metric;
  private final String formula;
  private final Set<Requirement> needs;

  Statistic(String metric, String formula, Requirement... needs) {
    this.metric = metric;
    this.formula = formula;
    EnumSet<Requirement> set = EnumSet.noneOf(Requirement.class);
    set.addAll(Arrays.asList(needs));
    this.needs = Collections.unmodifiableSet(set); // in Requirement's order
  }

  /** The running sum of an App D term. */
  Statistic(Statistic term) {
    this(term.metric + "_cum", "the running sum of " + term.metric + " over the run's one-step pairs up to step t"
        + " (Fig 41)", FIXED_PROBES);
  }

  /** Its name in layer_metrics' metric column (and in {@link LayerStats#metrics()}). */
  public String metric() {
    return metric;
  }

  /** Its formula or meaning, in one line (the notation is this class's). */
  public String formula() {
    return formula;
  }

  /** What it is computed from. */
  public Set<Requirement> needs() {
    return needs;
  }

  /** Whether {@link LayerStats} computes it (from its accumulators alone). */
  public boolean layerStats() {
    return needs.stream().allMatch(Requirement::layerStats);
  }

  /** The layer statistic it is scaled by: the within-sequence ones are scaled by the layer's RMS. */
  public Optional<Statistic> scaledBy() {
    return switch (this) {
      case SIGNAL_PROP_MEAN_SEQ, SIGNAL_PROP_RMS_SEQ -> Optional.of(ACT_RMS);
      case SIGNAL_PROP_MEAN_SEQ_WIDTH_CENTRED, SIGNAL_PROP_RMS_SEQ_WIDTH_CENTRED -> Optional.of(ACT_RMS_WIDTH_CENTRED);
      default -> Optional.empty();
    };
  }

  /** The running sum of an App D term (u2_1 → u2_1_cum). */
  public Statistic runningSum() {
    return valueOf(name() + "_CUM");
  }

  /** The statistic of that metric name, if any. */
  public static Optional<Statistic> named(String metric) {
    return Arrays.stream(values()).filter(s -> s.metric.equals(metric)).findFirst();
  }

  /** Every metric name, in declaration order. */
  public static List<String> metrics() {
    return Arrays.stream(values()).map(Statistic::metric).toList();
  }

  /** The statistics LayerStats computes, with or without those that need the feature Gram. */
  public static Set<Statistic> layerStatistics(boolean gram) {
    Set<Statistic> out = EnumSet.noneOf(Statistic.class);
    for (Statistic s : values()) {
      if (s.layerStats() && (gram || !s.needs.contains(FEATURE_GRAM))) {
        out.add(s);
      }
    }
    return out;
  }
}
