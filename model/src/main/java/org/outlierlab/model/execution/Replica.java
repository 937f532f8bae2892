package org.outlierlab.model.execution;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.outlierlab.model.ModelConfig;
import org.outlierlab.model.graph.Graph;
import org.outlierlab.model.graph.GraphBuilder;
import org.outlierlab.model.graph.ParameterArrays;
import org.outlierlab.model.graph.Site;
import org.outlierlab.model.graph.SiteTransforms;

/**
 * One copy of the network with its own activations: the graph, the embedding around it and the memory of its
 * training pass. A model runs its first batch part on its own replica; its other threads' replicas share that one's
 * parameter arrays ({@link ParameterArrays#sharedWith}). Sequences have exactly seqLen tokens; the batch size may
 * change from call to call.
 */
public final class Replica {
  private final ModelConfig c;
  private final Graph graph;
  private final Embeddings embeddings;
  /** Recycles the training pass's arrays from step to step (see {@link StepArrayPool}). */
  private final StepArrayPool passMemory = new StepArrayPool();

  /** One part's pass: sums over its tokens (not yet divided by the batch's token count) and its captured sites. */
  public record PartPass(double lossSum, Map<String, INDArray> gradients, INDArray dx0,
      Map<String, INDArray> activations) {}

  public Replica(ModelConfig c, DataType dtype, ParameterArrays arrays, SiteTransforms transforms) {
    this.c = c;
    this.graph = GraphBuilder.build(c, dtype, arrays, transforms);
    this.embeddings = new Embeddings(c, dtype, graph);
  }

  public Graph graph() {
    return graph;
  }

  /**
   * Forward and backward on [B][seqLen] inputs and targets: the loss sum, the graph's gradients (its trainable
   * variables' and its input's) and the {@code capture} sites. Valid until this replica's next training pass.
   */
  public PartPass trainingPass(int[][] inputs, int[][] targets, Set<String> capture) {
    passMemory.startPass(graph.sameDiff());
    INDArray x0 = embeddings.embed(inputs);
    graph.input().setArray(x0);
    List<String> outputs = new ArrayList<>(List.of(Graph.LOSS_SUM));
    outputs.addAll(computed(capture));
    List<String> wanted = new ArrayList<>(graph.trainable());
    wanted.add(Graph.INPUT);
    var result = graph.sameDiff().calculateGradientsAndOutputs(Map.of(Graph.LABELS, labels(targets)), outputs, wanted);
    return new PartPass(result.getOutputs().get(Graph.LOSS_SUM).getDouble(0), result.getGradients(),
        result.getGradients().get(Graph.INPUT), captured(capture, x0, result.getOutputs()));
  }

  /** The {@code capture} sites for the inputs, from a forward pass without gradient. */
  public Map<String, INDArray> activations(int[][] inputs, Set<String> capture) {
    INDArray x0 = embeddings.embed(inputs);
    graph.input().setArray(x0);
    List<String> computed = computed(capture);
    Map<String, INDArray> out = computed.isEmpty() ? Map.of()
        : graph.sameDiff().output(Map.of(), computed.toArray(new String[0]));
    return captured(capture, x0, out);
  }

  /** Logits [B·seqLen, vocab] for the inputs (no gradient). */
  public INDArray logits(int[][] inputs) {
    graph.input().setArray(embeddings.embed(inputs));
    return graph.sameDiff().output(Map.of(), Graph.LOGITS).get(Graph.LOGITS);
  }

  /** Sum over tokens of the next-token cross-entropy (no gradient). */
  public double lossSum(int[][] inputs, int[][] targets) {
    graph.input().setArray(embeddings.embed(inputs));
    return graph.sameDiff().output(Map.of(Graph.LABELS, labels(targets)), Graph.LOSS_SUM).get(Graph.LOSS_SUM)
        .getDouble(0);
  }

  /** Adds the embedding tables' gradients, from the gradient of the graph's input, to {@code grads}. */
  public void addEmbeddingGradients(int[][] inputs, INDArray dx0, Map<String, INDArray> grads) {
    embeddings.addGradients(inputs, dx0, grads, passMemory);
  }

  /** The graph variables a pass must compute for the captured sites: all but the input and parameters. */
  private List<String> computed(Set<String> capture) {
    return capture.stream().map(graph::site).filter(graph::computes).map(Site::variable).toList();
  }

  private Map<String, INDArray> captured(Set<String> capture, INDArray x0, Map<String, INDArray> outputs) {
    Map<String, INDArray> values = new LinkedHashMap<>();
    for (String name : capture) {
      Site site = graph.site(name);
      values.put(name, graph.computes(site) ? outputs.get(site.variable())
          : site.variable().equals(Graph.INPUT) ? x0 : graph.parameters().get(site.variable()));
    }
    return values;
  }

  /** Target ids, flattened to [B·seqLen]. */
  private INDArray labels(int[][] targets) {
    return Nd4j.createFromArray(Embeddings.flatten(targets, c.seqLen()));
  }
}
