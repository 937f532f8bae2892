package org.outlierlab.model.graph;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.VariableType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A built network ({@link GraphBuilder}): the SameDiff graph with its backward pass, its parameters, its sites, and the
 * embedding tables kept outside it. The graph's input {@link #INPUT} is the looked-up embeddings; its output is the
 * summed next-token cross-entropy {@link #LOSS_SUM} of the {@link #LABELS}.
 */
public final class Graph {
  /** The embedded tokens [B, T, d]: a variable, not a placeholder, because SameDiff gives placeholders no gradient. */
  public static final String INPUT = "x0";
  public static final String LABELS = "labels";
  /** Sum over tokens of the next-token cross-entropy; the loss is this divided by the number of tokens. */
  public static final String LOSS_SUM = "loss_sum";
  public static final String LOGITS = "logits";
  /** The token embedding table's parameter name. */
  public static final String EMBEDDING = "wte";
  /** The learned position table's parameter name. */
  public static final String POSITIONS = "wpe";

  private final SameDiff sd;
  private final List<String> trainable;
  private final List<String> frozen;
  /** By name, in graph order. */
  private final Map<String, Site> sites;
  private final INDArray tokenTable;
  private final INDArray positionTable;
  private final boolean tied;

  Graph(SameDiff sd, GraphParameters params, Map<String, Site> sites, INDArray tokenTable, INDArray positionTable,
      boolean tied) {
    this.sd = sd;
    this.trainable = List.copyOf(params.trainableNames);
    this.frozen = List.copyOf(params.frozenNames);
    this.sites = new LinkedHashMap<>(sites);
    this.tokenTable = tokenTable;
    this.positionTable = positionTable;
    this.tied = tied;
  }

  public SameDiff sameDiff() {
    return sd;
  }

  /** The graph's trained variables, in creation order (wte among them when the embedding is tied). */
  public List<String> trainable() {
    return trainable;
  }

  /** The token embedding table; when tied, the graph variable itself (SameDiff may have copied the initial array). */
  public INDArray tokenTable() {
    return tied ? sd.getVariable(EMBEDDING).getArr() : tokenTable;
  }

  /** The learned position table, or null without learned positions. */
  public INDArray positionTable() {
    return positionTable;
  }

  /** Every parameter by name: the embedding tables, then the graph's trained and frozen variables. */
  public Map<String, INDArray> parameters() {
    Map<String, INDArray> params = new LinkedHashMap<>();
    params.put(EMBEDDING, tokenTable());
    if (positionTable != null) {
      params.put(POSITIONS, positionTable);
    }
    for (String name : trainable) {
      params.put(name, sd.getVariable(name).getArr());
    }
    for (String name : frozen) {
      params.put(name, sd.getVariable(name).getArr());
    }
    return params;
  }

  /** The site names, in graph order. */
  public List<String> siteNames() {
    return List.copyOf(sites.keySet());
  }

  /** The site called {@code name}; fails, listing the sites, if there is none. */
  public Site site(String name) {
    Site s = sites.get(name);
    if (s == null) {
      throw new IllegalArgumentException("no activation site '" + name + "'; sites: " + sites.keySet());
    }
    return s;
  }

  /** Whether the graph computes the site's value (rather than it being the input or a parameter). */
  public boolean computes(Site s) {
    return sd.getVariable(s.variable()).getVariableType() == VariableType.ARRAY;
  }

  /** The input variable, whose array each pass replaces with that pass's embeddings. */
  public SDVariable input() {
    return sd.getVariable(INPUT);
  }
}
