"""A tiny GPT-2 (built from a config: nothing is downloaded) trained with the Hugging Face
Trainer on synthetic token sequences: `python train.py --steps 20`."""

import argparse

import torch
from transformers import GPT2Config, GPT2LMHeadModel, PrinterCallback, Trainer, TrainerCallback, TrainingArguments

VOCAB = 64


def make_sequences(count, length, seed=0):
    """Sequences that count up modulo VOCAB from a random start: easy to learn."""
    generator = torch.Generator().manual_seed(seed)
    starts = torch.randint(0, VOCAB, (count, 1), generator=generator)
    return [row for row in (starts + torch.arange(length)) % VOCAB]


def collate(sequences):
    # the data collator: a list of token tensors -> the model's keyword arguments
    input_ids = torch.stack(sequences)
    return {"input_ids": input_ids, "labels": input_ids.clone()}


class LossTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        outputs = model(**inputs)
        loss = outputs.loss
        return (loss, outputs) if return_outputs else loss


class PrintLoss(TrainerCallback):
    """Prints each logged loss with all its digits: any divergence shows."""

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            print(f"step {state.global_step:3d} loss {logs['loss']:.6f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    config = GPT2Config(vocab_size=VOCAB, n_positions=32, n_embd=32, n_layer=2, n_head=2,
                        bos_token_id=0, eos_token_id=0)
    model = GPT2LMHeadModel(config)
    training = TrainingArguments(
        output_dir="out",
        max_steps=args.steps,
        per_device_train_batch_size=8,
        learning_rate=3e-3,
        logging_steps=1,
        save_strategy="no",
        report_to=[],
        use_cpu=True,
        disable_tqdm=True,
        seed=0,
    )
    trainer = LossTrainer(
        model=model,
        args=training,
        train_dataset=make_sequences(256, 16),
        data_collator=collate,
        callbacks=[PrintLoss()],
    )
    trainer.remove_callback(PrinterCallback)  # its log lines carry timings; PrintLoss prints the losses
    trainer.train()
    checksum = sum(float(p.detach().sum()) for p in model.parameters())
    print(f"weights checksum {checksum:.6f}")


if __name__ == "__main__":
    main()
