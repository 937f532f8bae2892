package org.outlierlab.model.execution;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.scatter.ScatterAdd;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.graph.Graph;

/**
 * The token (and learned position) embedding, outside the graph: the lookup that makes the graph's input, and its
 * gradient scatter-added back into the tables. Why outside: SameDiff's gather gradient is broken in M2.1, and the
 * one-hot alternative costs a dense B·T·V·d product each way. The graph returns the gradient of its input variable
 * (it would return none for a placeholder).
 */
final class Embeddings {
  private final ModelConfig c;
  private final DataType dtype;
  private final Graph graph;

  Embeddings(ModelConfig c, DataType dtype, Graph graph) {
    this.c = c;
    this.dtype = dtype;
    this.graph = graph;
  }

  /** The graph's input for [B][seqLen] token ids: embedding scale · wte[id] (+ wpe[position]), [B, seqLen, d]. */
  INDArray embed(int[][] inputs) {
    int b = inputs.length;
    int t = c.seqLen();
    INDArray x = Nd4j.pullRows(graph.tokenTable(), 1, flatten(inputs, t)).muli(c.embeddingScale())
        .reshape(b, t, c.dModel());
    INDArray wpe = graph.positionTable();
    if (wpe != null) {
      x.addi(wpe.reshape(1, t, c.dModel()).broadcast(b, t, c.dModel()));
    }
    return x;
  }

  /**
   * dL/dwte[id] += scale · Σ dL/dx0[b,t] over the positions holding id; dL/dwpe = Σ_b dL/dx0[b]. The rows of one
   * id are summed here, in position order, and each id's sum is added once: libnd4j's multi-threaded scatter-add
   * of repeated ids is not reproducible from run to run. The gradients go into {@code grads}, in {@code memory}.
   */
  void addGradients(int[][] inputs, INDArray dx0, Map<String, INDArray> grads, StepArrayPool memory) {
    int d = c.dModel();
    int[] ids = flatten(inputs, c.seqLen());
    double[] rows = dx0.dup('c').data().asDouble(); // dup: SameDiff may return a view of a larger buffer
    Map<Integer, Integer> slot = new LinkedHashMap<>();
    for (int id : ids) {
      slot.putIfAbsent(id, slot.size());
    }
    double[] sums = new double[slot.size() * d];
    for (int i = 0; i < ids.length; i++) {
      int to = slot.get(ids[i]) * d;
      for (int j = 0; j < d; j++) {
        sums[to + j] += rows[i * d + j];
      }
    }
    INDArray perId = Nd4j.createFromArray(sums).reshape(slot.size(), d).muli(c.embeddingScale()).castTo(dtype);
    int[] unique = slot.keySet().stream().mapToInt(Integer::intValue).toArray();
    // In place, into this pass's memory: the tied unembedding's gradient (copied when SameDiff returned it as a
    // transposed view, which scatter-add would misread), or a zeroed array of the table's shape.
    INDArray tied = grads.get(Graph.EMBEDDING);
    INDArray grad = tied == null ? memory.allocate(true, dtype, graph.tokenTable().shape()).assign(0)
        : tied.dup('c');
    ScatterAdd add = new ScatterAdd(grad, Nd4j.createFromArray(unique), perId);
    add.addOutputArgument(grad);
    Nd4j.exec(add);
    grads.put(Graph.EMBEDDING, grad);
    if (graph.positionTable() != null) {
      grads.put(Graph.POSITIONS, dx0.sum(0));
    }
  }

  /** [B][t] token ids as one row-major array, each row checked to hold t ids. */
  static int[] flatten(int[][] rows, int t) {
    int[] flat = new int[rows.length * t];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != t) {
        throw new IllegalArgumentException("sequences must have " + t + " tokens, got " + rows[i].length);
      }
      System.arraycopy(rows[i], 0, flat, i * t, t);
    }
    return flat;
  }
}
