// void rt_context_switch(void** save_sp, void* new_sp)   (System V AMD64)
// Saves the callee-saved registers and the x87/SSE control words on the
// current stack, stores the stack pointer in *save_sp, switches to new_sp and
// restores the same set from there.
        .text
        .globl  rt_context_switch
        .type   rt_context_switch,@function
        .p2align 4
rt_context_switch:
        .cfi_startproc
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        addq    $8, %rsp
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .cfi_endproc
        .size   rt_context_switch,.-rt_context_switch

// First code a new context runs: r12 = entry function, r13 = its argument
// (both placed in the initial frame by prepare()). The entry never returns.
        .globl  rt_context_trampoline
        .type   rt_context_trampoline,@function
        .p2align 4
rt_context_trampoline:
        .cfi_startproc
        .cfi_undefined rip      // end of stack for unwinders and ASan reports
        movq    %r13, %rdi
        callq   *%r12
        ud2
        .cfi_endproc
        .size   rt_context_trampoline,.-rt_context_trampoline

        .section .note.GNU-stack,"",@progbits
