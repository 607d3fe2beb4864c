// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title A misbehaving ERC-20 for the bridge's tests only (research/bridge.md §7.12): it can take a fee on
///        every transfer, return false instead of reverting, or call back into another contract (re-entry)
///        from inside a transfer. Never deployed outside tests.
contract MockToken {
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    uint256 public feeBps;
    bool public returnFalse;
    address public hookTarget;
    bytes public hookData;
    bool public hookSucceeded;
    bytes public hookReturn;

    event Transfer(address indexed from, address indexed to, uint256 value);

    constructor(address holder, uint256 supply) {
        balanceOf[holder] = supply;
        emit Transfer(address(0), holder, supply);
    }

    function setFeeBps(uint256 bps) external {
        feeBps = bps;
    }

    function setReturnFalse(bool value) external {
        returnFalse = value;
    }

    /// @notice On the next transfer, call `target` with `data` (once) and record the outcome.
    function setHook(address target, bytes calldata data) external {
        hookTarget = target;
        hookData = data;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        return true;
    }

    function transfer(address to, uint256 value) external returns (bool) {
        return _transfer(msg.sender, to, value);
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        if (returnFalse) return false;
        allowance[from][msg.sender] -= value;
        return _transfer(from, to, value);
    }

    function _transfer(address from, address to, uint256 value) private returns (bool) {
        if (returnFalse) return false;
        balanceOf[from] -= value;
        uint256 fee = (value * feeBps) / 10_000;
        balanceOf[to] += value - fee;
        emit Transfer(from, to, value - fee);
        address target = hookTarget;
        if (target != address(0)) {
            hookTarget = address(0);
            (hookSucceeded, hookReturn) = target.call(hookData);
        }
        return true;
    }
}
