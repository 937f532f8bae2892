package org.outlierlab.model.graph;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A named point of the graph: a tensor where the paper measures or a quantiser acts. {@link GraphBuilder} names one at
 * every such tensor (renaming a SameDiff variable adds no op). What happens there is decided in one place: nothing
 * (training), a capture (a pass asked for the site by name returns its value: snapshots), or a transform of the
 * tensor that the rest of the network then uses ({@link SiteTransforms}, applied as the graph is built). A site's
 * value is the tensor that flows on from it: with a transform, the transform's output.
 *
 * <p>Names: {@code <kind>_<layer>} for layers 0 to L−1, and the bare kind for the unembedding's two. The kinds, in
 * graph order (B sequences of T tokens, width d, H heads of d_h, vocabulary V):
 * <ul>
 *   <li>{@code resid_attn_in} [B, T, d]: the residual stream entering layer l; at layer 0 the embedding output (the
 *       graph's input), in Post-LN the previous norm's output.
 *   <li>{@code norm_attn_out} [B, T, d]: the output of the norm before attention (Pre-QK's, or Pre-V's when V alone is
 *       normed); with norm_before_qk or norm_before_v.
 *   <li>{@code attn_q_in}, {@code attn_k_in}, {@code attn_v_in} [B·T, d] and {@code attn_q_weight}, {@code
 *       attn_k_weight}, {@code attn_v_weight} [d, d]: the input and weight of each projection (each linear map
 *       {@code m} has the sites {@code m_in}, its input rows, and {@code m_weight}, the parameter itself unless
 *       transformed).
 *   <li>{@code q_norm_out}, {@code k_norm_out} [B, H, T, d_h]: q and k after QK-Norm (before RoPE); with
 *       entropy_regulation = qk-norm.
 *   <li>{@code attn_scores} [B, H, T, T]: q·kᵀ/√d_h, after the tanh cap if any, before the causal mask.
 *   <li>{@code attn_probs} [B, H, T, T]: the attention probabilities.
 *   <li>{@code attn_context} [B, H, T, d_h]: probabilities times v, per head.
 *   <li>{@code attn_o_in} [B·T, d] (the context, heads side by side) and {@code attn_o_weight} [d, d]: the output
 *       projection.
 *   <li>{@code resid_attn_sum} [B, T, d]: h + β·attention where a norm follows it (Post-LN); elsewhere that sum is
 *       resid_mlp_in.
 *   <li>{@code resid_mlp_in} [B, T, d]: the residual stream entering the MLP sub-block.
 *   <li>{@code norm_mlp_out} [B, T, d]: the output of the norm before the MLP; with norm_before_mlp.
 *   <li>{@code mlp_up_in} [B·T, d] and {@code mlp_up_weight} [d, 4d]: W₁.
 *   <li>{@code mlp_preact} [B·T, 4d]: α·W₁x, the MLP's pre-activation; with alpha ≠ none.
 *   <li>{@code mlp_down_in} [B·T, 4d] (φ of the pre-activation) and {@code mlp_down_weight} [4d, d]: W₂.
 *   <li>{@code resid_mlp_sum} [B, T, d]: h + β·MLP where a norm follows it (Post-LN's, or final_norm's after the last
 *       layer); elsewhere that sum is the next layer's resid_attn_in, or unembed_in.
 *   <li>{@code unembed_in} [B, T, d]: the unembedding's input, after final_norm if that is on.
 *   <li>{@code unembed_weight}: the unembedding, [d, V]; tied, the token table [V, d], which it uses transposed.
 * </ul>
 *
 * @param variable the SameDiff variable holding the value: the site's name, except where the site is the graph's
 *     input or a parameter, which keep their own names
 * @param weight whether the site is a weight (the same for every sequence) rather than an activation
 */
public record Site(String name, String variable, boolean weight) {
  /** Every kind of site, in graph order, as listed above. */
  public static final List<String> KINDS = List.of("resid_attn_in", "norm_attn_out", "attn_q_in", "attn_q_weight",
      "attn_k_in", "attn_k_weight", "attn_v_in", "attn_v_weight", "q_norm_out", "k_norm_out", "attn_scores",
      "attn_probs", "attn_context", "attn_o_in", "attn_o_weight", "resid_attn_sum", "resid_mlp_in", "norm_mlp_out",
      "mlp_up_in", "mlp_up_weight", "mlp_preact", "mlp_down_in", "mlp_down_weight", "resid_mlp_sum", "unembed_in",
      "unembed_weight");

  /** A per-layer site name, e.g. resid_attn_in_3; the unembedding's have no layer suffix. */
  private static final Pattern LAYERED = Pattern.compile("(.*)_(\\d+)");

  /** A site's kind: its name without the layer suffix (norm_attn_out_3 → norm_attn_out). */
  public static String kind(String site) {
    Matcher m = LAYERED.matcher(site);
    return m.matches() ? m.group(1) : site;
  }

  /** A site's layer: its suffix, or {@code nLayers} for the unembedding's, which come after the last layer. */
  public static int layer(String site, int nLayers) {
    Matcher m = LAYERED.matcher(site);
    return m.matches() ? Integer.parseInt(m.group(2)) : nLayers;
  }
}
